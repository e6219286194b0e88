"""Sending messages (SSE or JSON), tool-call history and the tool catalogue."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from app.chat import service as chat_service
from app.chat.streaming import SSE_CONTENT, event_stream, sse_replay, sse_stream
from app.conversations.schemas import MessageCreate, ToolCallList, TurnResult
from app.core.db import SessionDep, commit_early
from app.core.openapi import responses
from app.core.pagination import PageParams, page_params
from app.core.rate_limit import Budget, RateLimiter
from app.identity.dependencies import AnyPrincipal, SettingsDep
from app.tools.schemas import ModelList, ToolList

router = APIRouter(tags=["chat"])
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=8, max_length=100, pattern=r"^[\x21-\x7e]+$"),
]


async def limit_chat_send(request: Request, principal: AnyPrincipal) -> None:
    """Sends cost money: a per-user budget (RATE_LIMIT_CHAT_SEND), stricter than reads."""
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.hit(Budget.CHAT_SEND, str(principal.user_id))


@router.post(
    "/v1/conversations/{conversation_id}/messages",
    dependencies=[Depends(limit_chat_send)],
    response_model=TurnResult,
    summary="Send a message",
    responses={
        **responses(401, 403, 404, 409, 422, 429, 502, 503),
        200: {
            "description": "The answer: server-sent events by default, or the whole turn as "
            "JSON when `Accept: application/json` is sent.",
            "content": {"text/event-stream": SSE_CONTENT, "application/json": {}},
        },
    },
)
async def send_message(
    conversation_id: uuid.UUID,
    body: MessageCreate,
    request: Request,
    principal: AnyPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """Store the user's message, then stream the answer as Server-Sent Events (or answer JSON
    when ``Accept: application/json``). A repeated ``Idempotency-Key`` replays the original."""
    outcome = await chat_service.send_message(
        session,
        principal,
        settings,
        conversation_id,
        content=body.content,
        idempotency_key=idempotency_key,
        file_ids=body.file_ids,
    )
    wants_json = "application/json" in request.headers.get("accept", "")
    if isinstance(outcome, TurnResult):
        failure = chat_service.replayed_failure(outcome)
        if wants_json and failure is not None:
            raise failure
        if wants_json:
            return outcome
        return event_stream(sse_replay(outcome, failure), ping_seconds=settings.sse_ping_seconds)
    events = chat_service.stream_turn(
        outcome,
        client=request.app.state.openai,
        sessionmaker=request.app.state.sessionmaker,
        settings=settings,
    )
    if wants_json:
        # The runner writes with its own sessions: make the user message visible to them first.
        await commit_early(session)
        return await chat_service.collect_turn(events)
    # The user message is committed when this dependency scope exits (before the response
    # starts); the generator writes the answer with its own sessions.
    return event_stream(sse_stream(events), ping_seconds=settings.sse_ping_seconds)


@router.get(
    "/v1/conversations/{conversation_id}/tool-calls",
    response_model=ToolCallList,
    summary="List tool calls",
    responses=responses(401, 404, 422),
)
async def list_tool_calls(
    conversation_id: uuid.UUID,
    principal: AnyPrincipal,
    session: SessionDep,
    page: Annotated[PageParams, Depends(page_params)],
) -> ToolCallList:
    """Every tool call of a conversation (owner; workspace admins too)."""
    return await chat_service.list_tool_calls(session, principal, conversation_id, page)


@router.get(
    "/v1/tools", response_model=ToolList, summary="The tool catalogue", responses=responses(401)
)
async def list_tools(principal: AnyPrincipal) -> ToolList:
    """Tools a bot can be allowed to use, with their argument schemas."""
    del principal  # authentication only: the catalogue is the same for everyone
    return chat_service.list_tools()


@router.get(
    "/v1/models", response_model=ModelList, summary="The model allowlist", responses=responses(401)
)
async def list_models(principal: AnyPrincipal, settings: SettingsDep) -> ModelList:
    """Models a bot may be created with (``CHAT_MODELS``); anything else is refused."""
    del principal  # authentication only: the allowlist is the same for everyone
    return chat_service.list_models(settings)
