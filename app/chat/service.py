"""Sending a message: prepare in the request transaction, then stream or collect the answer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

from openai import AsyncOpenAI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.chat.errors import MODEL_UNAVAILABLE, TurnFailed
from app.chat.persistence import load_result
from app.chat.runner import Done, Failed, TurnEvent, run_turn
from app.chat.turn import PreparedTurn, ReplayedTurn, prepare_turn
from app.conversations import service as conversation_service
from app.conversations.models import MessageStatus
from app.conversations.schemas import ToolCallList, ToolCallRead, TurnResult
from app.core.config import Settings
from app.core.errors import NotFound
from app.core.pagination import PageParams
from app.identity.principal import Principal
from app.tools.registry import REGISTRY
from app.tools.repository import ToolCallRepository
from app.tools.schemas import ModelList, ToolList, ToolRead


async def send_message(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    conversation_id: uuid.UUID,
    *,
    content: str,
    idempotency_key: str | None,
    file_ids: Sequence[uuid.UUID] = (),
) -> PreparedTurn | TurnResult:
    """Persist the user's message (and an assistant placeholder) or replay a stored turn."""
    prepared = await prepare_turn(
        session,
        principal,
        settings,
        conversation_id,
        content=content,
        idempotency_key=idempotency_key,
        file_ids=file_ids,
    )
    if isinstance(prepared, ReplayedTurn):
        return await load_result(
            session, principal, prepared.user_message_id, prepared.assistant_message_id
        )
    return prepared


def stream_turn(
    turn: PreparedTurn,
    *,
    client: AsyncOpenAI,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> AsyncIterator[TurnEvent]:
    return run_turn(turn, client=client, sessionmaker=sessionmaker, settings=settings)


async def collect_turn(events: AsyncIterator[TurnEvent]) -> TurnResult:
    """JSON mode: run the turn to the end and answer once (a failure: its 502/503 problem)."""
    result: TurnResult | None = None
    failure: str | None = None
    async for event in events:  # consumed to the end, so the generator closes cleanly
        if isinstance(event, Done):
            result = event.result
        elif isinstance(event, Failed):
            failure = event.code
    if result is None:
        raise TurnFailed(failure or MODEL_UNAVAILABLE)
    return result


def replayed_failure(result: TurnResult) -> TurnFailed | None:
    """A replayed turn that had failed answers its recorded failure again, as it did first."""
    if result.message.status != MessageStatus.FAILED.value:
        return None
    return TurnFailed(result.message.error_code or MODEL_UNAVAILABLE, replayed=True)


async def list_tool_calls(
    session: AsyncSession, principal: Principal, conversation_id: uuid.UUID, params: PageParams
) -> ToolCallList:
    """Tool calls of a conversation: its owner sees them; workspace admins see them too.

    A conversation that is neither yours nor has tool calls in a workspace you administer is
    not found, like a random id.
    """
    repo = ToolCallRepository(session)
    try:
        await conversation_service.get_conversation(session, principal, conversation_id)
    except NotFound:
        # Not the caller's own: visible only as an administrator of a workspace where it has
        # tool calls (checked without the cursor, so a forged cursor cannot tell the difference).
        if not await repo.any_for_conversation(principal, conversation_id):
            raise
    page = await repo.list_for_conversation(principal, conversation_id, params)
    return ToolCallList(
        items=[ToolCallRead.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )


def list_models(settings: Settings) -> ModelList:
    return ModelList(items=list(settings.chat_models))


def list_tools() -> ToolList:
    return ToolList(
        items=[
            ToolRead(
                name=spec.name.value,
                description=spec.description,
                parameters=spec.arguments.model_json_schema(),
                required_permission=spec.permission.value,
            )
            for spec in REGISTRY.values()
        ]
    )
