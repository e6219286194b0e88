"""Writing a finished turn and reading a stored one (through the scoped repositories)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.chat.turn import PreparedTurn
from app.conversations.models import MessageStatus
from app.conversations.repository import MessageRepository
from app.conversations.schemas import MessageRead, ToolCallRead, TurnResult
from app.core.errors import NotFound
from app.tools.repository import ToolCallRepository
from app.usage import service as usage_service
from app.webhooks.events import EventType, emit_event


async def finalize_turn(
    session: AsyncSession,
    turn: PreparedTurn,
    *,
    content: str,
    status: MessageStatus,
    prompt_tokens: int,
    completion_tokens: int,
) -> None:
    # First, so a turn whose conversation was deleted mid-answer is still charged and released.
    await usage_service.settle(
        session,
        turn.workspace_id,
        turn.assistant_message_id,
        prompt=prompt_tokens,
        completion=completion_tokens,
        streamed_text=content,
    )
    message = await MessageRepository(session).get_own(turn.principal, turn.assistant_message_id)
    if message is None:  # the conversation was deleted mid-answer: nothing to keep
        return
    message.content = content
    message.status = status
    message.prompt_tokens = prompt_tokens
    message.completion_tokens = completion_tokens
    await session.flush()
    await emit_event(
        session,
        workspace_id=turn.workspace_id,
        event_type=EventType.MESSAGE_CREATED,
        data={
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "role": message.role.value,
            "status": status.value,
            "content": content,  # only for endpoints that opted in to content
        },
    )


async def load_result(
    session: AsyncSession,
    principal: Principal,
    user_message_id: uuid.UUID,
    assistant_message_id: uuid.UUID,
) -> TurnResult:
    message = await MessageRepository(session).get_own(principal, assistant_message_id)
    if message is None:
        raise NotFound()
    calls = await ToolCallRepository(session).list_for_message(principal, assistant_message_id)
    return TurnResult(
        user_message_id=user_message_id,
        message=MessageRead.model_validate(message),
        tool_calls=[ToolCallRead.model_validate(c) for c in calls],
    )
