"""Writing a finished turn and reading a stored one (through the scoped repositories)."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.chat.errors import TURN_INTERRUPTED
from app.chat.turn import PreparedTurn
from app.conversations.models import Message, MessageRole, MessageStatus
from app.conversations.repository import Ending, MessageRepository
from app.conversations.schemas import MessageRead, ToolCallRead, TurnResult
from app.core.errors import NotFound
from app.identity.principal import Principal
from app.tools.repository import ToolCallRepository
from app.usage import service as usage_service
from app.webhooks.events import EventType, emit_event, event_writes
from app.workspaces.access import AccessibleWorkspaceID

log = structlog.get_logger()


async def finalize_turn(
    session: AsyncSession,
    turn: PreparedTurn,
    *,
    content: str,
    status: MessageStatus,
    prompt_tokens: int,
    completion_tokens: int,
    error_code: str | None = None,
    any_tool_calls: bool = True,
) -> TurnResult | None:
    """The runner's ending, in the caller's transaction. Only a turn still ``streaming`` is
    ended (row locked): a turn the orphan sweeper already ended keeps that ending and emits no
    second event. A complete turn is read back as stored (None: not complete, or deleted with
    its conversation mid-answer).

    The usage is settled last, whatever happened above (a turn deleted mid-answer is still
    charged and released; whoever ends the turn first takes the reservation, so it is settled
    once): the settlement locks the workspace's ledger row for the day, which every turn of the
    workspace passes through, so it is held only from the last statement to ``COMMIT``. The
    sweeper's ending takes the rows in the same order (message, reservation, ledger).
    """
    ending = Ending(
        content=content,
        status=status,
        error_code=error_code,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )
    # The ``message.created`` fan-out rides in the ending's statement, gated on the row it
    # ended: the same data ``_emit_ended`` sends, all of it known here (the row is set to it).
    data = {
        "message_id": turn.assistant_message_id,
        "conversation_id": turn.conversation_id,
        "role": MessageRole.ASSISTANT.value,
        "status": status.value,
        "error_code": error_code,
        "content": content,  # only for endpoints that opted in to content
    }
    message = await MessageRepository(session).end_streaming(
        turn.principal,
        turn.assistant_message_id,
        ending,
        alongside=lambda ended: event_writes(
            session,
            workspace_id=turn.workspace_id,
            event_type=EventType.MESSAGE_CREATED,
            data=data,
            gate=ended,
        ),
    )
    result = None
    if status is MessageStatus.COMPLETE:
        try:
            result = await load_result(
                session,
                turn.principal,
                turn.user_message_id,
                turn.assistant_message_id,
                ended=message,
                any_tool_calls=any_tool_calls,
            )
        except NotFound:  # deleted with its conversation mid-answer: the ending still commits
            log.warning("stored turn not read", error="NotFound")
    await usage_service.settle(
        session,
        turn.workspace_id,
        turn.assistant_message_id,
        prompt=prompt_tokens,
        completion=completion_tokens,
        streamed_text=content,
    )
    return result


async def end_orphan(
    session: AsyncSession,
    workspace_id: AccessibleWorkspaceID,
    message_id: uuid.UUID,
    *,
    prompt_tokens: int,
    completion_tokens: int,
) -> bool:
    """The sweeper's ending for a turn whose process died (the worker bound the message's
    workspace and owner): ``failed``, ``turn_interrupted``, with the text it has (none:
    the answer is written only at the end), charged its lease's estimates. False when the turn
    had already ended."""
    message = await MessageRepository(session).end_streaming_in(
        workspace_id,
        message_id,
        Ending(
            content=None,
            status=MessageStatus.FAILED,
            error_code=TURN_INTERRUPTED,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        ),
    )
    if message is not None:
        await _emit_ended(session, message, workspace_id)
    # Last, as in the runner's ending: the ledger row is locked only until COMMIT.
    await usage_service.settle(
        session, workspace_id, message_id, prompt=prompt_tokens, completion=completion_tokens
    )
    return message is not None


async def _emit_ended(
    session: AsyncSession, message: Message, workspace_id: AccessibleWorkspaceID
) -> None:
    await emit_event(
        session,
        workspace_id=workspace_id,
        event_type=EventType.MESSAGE_CREATED,
        data={
            "message_id": message.id,
            "conversation_id": message.conversation_id,
            "role": message.role.value,
            "status": message.status.value,
            "error_code": message.error_code,
            "content": message.content,  # only for endpoints that opted in to content
        },
    )


async def load_result(
    session: AsyncSession,
    principal: Principal,
    user_message_id: uuid.UUID,
    assistant_message_id: uuid.UUID,
    *,
    ended: Message | Row[Any] | None = None,
    any_tool_calls: bool = True,
) -> TurnResult:
    """A stored turn. The runner passes the row it has just ended (``ended``: its columns, as
    the ending returned them) and whether the turn called tools, sparing the reads it would
    repeat."""
    message = (
        ended
        if ended is not None
        else await MessageRepository(session).get_own(principal, assistant_message_id)
    )
    if message is None:
        raise NotFound()
    calls = (
        await ToolCallRepository(session).list_for_message(principal, assistant_message_id)
        if any_tool_calls
        else ()
    )
    return TurnResult(
        user_message_id=user_message_id,
        message=MessageRead.model_validate(message),
        tool_calls=[ToolCallRead.model_validate(c) for c in calls],
    )
