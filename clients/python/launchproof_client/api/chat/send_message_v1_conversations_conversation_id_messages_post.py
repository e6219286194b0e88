from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.message_create import MessageCreate
from ...models.problem import Problem
from ...models.turn_result import TurnResult
from ...types import UNSET, Response, Unset


def _get_kwargs(
    conversation_id: UUID,
    *,
    body: MessageCreate,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/conversations/{conversation_id}/messages".format(
            conversation_id=quote(str(conversation_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | TurnResult | None:
    if response.status_code == 200:
        response_200 = TurnResult.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 502:
        response_502 = Problem.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Problem | TurnResult]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    conversation_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MessageCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | TurnResult]:
    """Send a message

     Store the user's message, then stream the answer as Server-Sent Events (or answer JSON
    when ``Accept: application/json``). A repeated ``Idempotency-Key`` replays the original.

    Args:
        conversation_id (UUID):
        idempotency_key (str | Unset):
        body (MessageCreate): Only the user's text: clients cannot send system, assistant or tool
            messages.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TurnResult]
    """

    kwargs = _get_kwargs(
        conversation_id=conversation_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    conversation_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MessageCreate,
    idempotency_key: str | Unset = UNSET,
) -> Problem | TurnResult | None:
    """Send a message

     Store the user's message, then stream the answer as Server-Sent Events (or answer JSON
    when ``Accept: application/json``). A repeated ``Idempotency-Key`` replays the original.

    Args:
        conversation_id (UUID):
        idempotency_key (str | Unset):
        body (MessageCreate): Only the user's text: clients cannot send system, assistant or tool
            messages.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TurnResult
    """

    return sync_detailed(
        conversation_id=conversation_id,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    conversation_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MessageCreate,
    idempotency_key: str | Unset = UNSET,
) -> Response[Problem | TurnResult]:
    """Send a message

     Store the user's message, then stream the answer as Server-Sent Events (or answer JSON
    when ``Accept: application/json``). A repeated ``Idempotency-Key`` replays the original.

    Args:
        conversation_id (UUID):
        idempotency_key (str | Unset):
        body (MessageCreate): Only the user's text: clients cannot send system, assistant or tool
            messages.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | TurnResult]
    """

    kwargs = _get_kwargs(
        conversation_id=conversation_id,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    conversation_id: UUID,
    *,
    client: AuthenticatedClient,
    body: MessageCreate,
    idempotency_key: str | Unset = UNSET,
) -> Problem | TurnResult | None:
    """Send a message

     Store the user's message, then stream the answer as Server-Sent Events (or answer JSON
    when ``Accept: application/json``). A repeated ``Idempotency-Key`` replays the original.

    Args:
        conversation_id (UUID):
        idempotency_key (str | Unset):
        body (MessageCreate): Only the user's text: clients cannot send system, assistant or tool
            messages.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | TurnResult
    """

    return (
        await asyncio_detailed(
            conversation_id=conversation_id,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
