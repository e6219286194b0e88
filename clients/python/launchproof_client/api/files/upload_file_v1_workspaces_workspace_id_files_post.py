from http import HTTPStatus
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.file_read import FileRead
from ...models.problem import Problem
from ...models.upload_file_v1_workspaces_workspace_id_files_post_body import (
    UploadFileV1WorkspacesWorkspaceIdFilesPostBody,
)
from ...types import Response


def _get_kwargs(
    workspace_id: UUID,
    *,
    body: UploadFileV1WorkspacesWorkspaceIdFilesPostBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/workspaces/{workspace_id}/files".format(
            workspace_id=quote(str(workspace_id), safe=""),
        ),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> FileRead | Problem | None:
    if response.status_code == 201:
        response_201 = FileRead.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 408:
        response_408 = Problem.from_dict(response.json())

        return response_408

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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[FileRead | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    workspace_id: UUID,
    *,
    client: AuthenticatedClient,
    body: UploadFileV1WorkspacesWorkspaceIdFilesPostBody,
) -> Response[FileRead | Problem]:
    """Upload a file

     Members upload one file as ``multipart/form-data`` (part ``file``); it is unusable until
    its malware scan passes. The type is decided from the bytes.

    Args:
        workspace_id (UUID):
        body (UploadFileV1WorkspacesWorkspaceIdFilesPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileRead | Problem]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    workspace_id: UUID,
    *,
    client: AuthenticatedClient,
    body: UploadFileV1WorkspacesWorkspaceIdFilesPostBody,
) -> FileRead | Problem | None:
    """Upload a file

     Members upload one file as ``multipart/form-data`` (part ``file``); it is unusable until
    its malware scan passes. The type is decided from the bytes.

    Args:
        workspace_id (UUID):
        body (UploadFileV1WorkspacesWorkspaceIdFilesPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileRead | Problem
    """

    return sync_detailed(
        workspace_id=workspace_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    workspace_id: UUID,
    *,
    client: AuthenticatedClient,
    body: UploadFileV1WorkspacesWorkspaceIdFilesPostBody,
) -> Response[FileRead | Problem]:
    """Upload a file

     Members upload one file as ``multipart/form-data`` (part ``file``); it is unusable until
    its malware scan passes. The type is decided from the bytes.

    Args:
        workspace_id (UUID):
        body (UploadFileV1WorkspacesWorkspaceIdFilesPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[FileRead | Problem]
    """

    kwargs = _get_kwargs(
        workspace_id=workspace_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    workspace_id: UUID,
    *,
    client: AuthenticatedClient,
    body: UploadFileV1WorkspacesWorkspaceIdFilesPostBody,
) -> FileRead | Problem | None:
    """Upload a file

     Members upload one file as ``multipart/form-data`` (part ``file``); it is unusable until
    its malware scan passes. The type is decided from the bytes.

    Args:
        workspace_id (UUID):
        body (UploadFileV1WorkspacesWorkspaceIdFilesPostBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        FileRead | Problem
    """

    return (
        await asyncio_detailed(
            workspace_id=workspace_id,
            client=client,
            body=body,
        )
    ).parsed
