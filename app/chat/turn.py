"""Preparing a turn inside the request transaction (authorize, budget, idempotency, persist)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.chat.accounting import estimate_prompt_tokens, newest_within
from app.chat.repository import TurnRepository
from app.conversations.models import Message, MessageRole, MessageStatus, TurnLease
from app.conversations.repository import (
    ConversationRepository,
    MessageRepository,
    TurnLeaseRepository,
)
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.files import service as file_service
from app.files.context import attachment_blocks
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.tools.registry import tools_for
from app.usage import service as usage_service
from app.webhooks.events import EventType, event_writes
from app.workspaces.access import AccessibleWorkspaceID, checked_workspace_id


@dataclass(frozen=True)
class PreparedTurn:
    """Everything the streamed part needs; it never touches the request's session."""

    principal: Principal
    workspace_id: AccessibleWorkspaceID
    conversation_id: uuid.UUID
    user_message_id: uuid.UUID
    assistant_message_id: uuid.UUID
    model: str
    temperature: float
    max_tokens: int
    system_prompt: str
    allowed_domains: tuple[str, ...]
    tool_names: tuple[str, ...]
    history: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class ReplayedTurn:
    """An ``Idempotency-Key`` seen before: the original result, no second model call."""

    user_message_id: uuid.UUID
    assistant_message_id: uuid.UUID


async def prepare_turn(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    conversation_id: uuid.UUID,
    *,
    content: str,
    idempotency_key: str | None,
    file_ids: Sequence[uuid.UUID] = (),
) -> PreparedTurn | ReplayedTurn:
    # The conversation with its bot, one read (scoped as get_conversation and get_for_chat).
    found = await TurnRepository(session).conversation_with_bot(principal, conversation_id)
    if found is None:
        raise NotFound()
    conversation, bot = found
    ws = checked_workspace_id(principal, conversation.workspace_id, WorkspacePermission.CHAT)
    if ws is None:
        raise Forbidden("Your role in this workspace does not allow chatting.")
    if len(content) > settings.chat_max_message_chars:
        raise Unprocessable(
            f"Messages have at most {settings.chat_max_message_chars} characters.",
            code="message_too_long",
        )
    messages = MessageRepository(session)
    if idempotency_key is not None:
        replay = await _replay(messages, principal, conversation_id, idempotency_key)
        if replay is not None:
            return replay
    if bot is None:  # the bot was deleted with its conversations: this one is going too
        raise NotFound()
    # Files: only clean files of this conversation's workspace the caller may read (404/422 first).
    attached = await file_service.check_attachments(session, principal, ws, file_ids)
    history = await TurnRepository(session).history(
        principal, conversation_id, settings.chat_history_messages - 1
    )
    now = datetime.now(UTC)
    user_message = Message(
        id=uuid.uuid4(),
        workspace_id=ws,
        conversation_id=conversation_id,
        user_id=principal.user_id,
        role=MessageRole.USER,
        content=content,
        status=MessageStatus.COMPLETE,
        idempotency_key=idempotency_key,
    )
    assistant = Message(
        id=uuid.uuid4(),
        workspace_id=ws,
        conversation_id=conversation_id,
        user_id=principal.user_id,
        role=MessageRole.ASSISTANT,
        content="",
        status=MessageStatus.STREAMING,
        reply_to_id=user_message.id,
        model=bot.model,
    )
    try:
        # Both rows in one flush: one multi-row INSERT.
        if idempotency_key is None:
            await messages.create(user_message, flush=False)
            await messages.create(assistant)
        else:
            # Only a keyed insert can collide (the unique index); only it pays for a savepoint.
            async with session.begin_nested():
                await messages.create(user_message, flush=False)
                await messages.create(assistant)
    except IntegrityError:
        # The same key raced in from a concurrent retry; that one owns the model call.
        raise Conflict(
            "A request with this Idempotency-Key is in progress.", code="in_progress"
        ) from None
    await file_service.attach(session, ws, user_message.id, attached)
    # Attachments are read into the prompt afresh each turn: a deleted file is gone from here.
    # Looked up only for messages that have attachment links (the history's flag).
    with_files = [m.id for m, has_files in history if has_files]
    if attached:
        with_files.append(user_message.id)
    blocks = (
        await attachment_blocks(session, principal, settings, ws, with_files) if with_files else {}
    )
    # Context comes only from this conversation's stored turns: clients cannot inject system,
    # assistant or tool messages.
    context = newest_within(
        [
            {"role": m.role.value, "content": _with_files(m.content, blocks.get(m.id))}
            for m, _ in history
        ],
        settings.chat_history_tokens,
    )
    prompt = (
        {"role": "system", "content": bot.system_prompt},
        *context,
        {"role": "user", "content": _with_files(content, blocks.get(user_message.id))},
    )
    # The lease the runner renews; if this process dies, the worker ends the turn from it.
    lease = TurnLeaseRepository(session).create_cte(
        TurnLease(
            message_id=assistant.id,
            workspace_id=ws,
            user_id=principal.user_id,
            expires_at=now + timedelta(seconds=settings.chat_turn_lease_seconds),
            prompt_tokens=estimate_prompt_tokens(prompt),
            streamed_chars=0,
        )
    )
    prepared = PreparedTurn(
        principal=principal,
        workspace_id=ws,
        conversation_id=conversation_id,
        user_message_id=user_message.id,
        assistant_message_id=assistant.id,
        model=bot.model,
        temperature=bot.temperature,
        max_tokens=min(bot.max_output_tokens, settings.chat_max_output_tokens),
        system_prompt=bot.system_prompt,
        allowed_domains=tuple(bot.allowed_domains),
        tool_names=tuple(tools_for(principal, bot)),
        history=prompt[1:],
    )
    # Last, once the prompt is known: the admission and its hold, in one statement with the
    # turn's other writes (the lease, the conversation's touch, the user message's webhook
    # fan-out). A refused turn raises and its transaction undoes them all; an admitted one has
    # all of them (the reservation locks the day's ledger row until commit).
    await usage_service.reserve_turn(
        session,
        settings,
        ws,
        assistant.id,
        messages=({"content": bot.system_prompt}, *prepared.history),
        tool_names=prepared.tool_names,
        max_tokens=prepared.max_tokens,
        alongside=(
            lease,
            ConversationRepository(session).touch_cte(principal, conversation_id, now),
            event_writes(
                session,
                workspace_id=ws,
                event_type=EventType.MESSAGE_CREATED,
                data={
                    "message_id": user_message.id,
                    "conversation_id": conversation_id,
                    "role": MessageRole.USER.value,
                    "content": content,  # only for endpoints that opted in to content
                },
            ),
        ),
    )
    return prepared


def _with_files(content: str, block: str | None) -> str:
    return content if block is None else f"{content}\n\n{block}"


async def _replay(
    messages: MessageRepository, principal: Principal, conversation_id: uuid.UUID, key: str
) -> ReplayedTurn | None:
    original = await messages.get_by_idempotency_key(principal, conversation_id, key)
    if original is None:
        return None
    reply = await messages.get_reply(principal, original.id)
    if reply is None or reply.status is MessageStatus.STREAMING:
        raise Conflict("A request with this Idempotency-Key is in progress.", code="in_progress")
    return ReplayedTurn(user_message_id=original.id, assistant_message_id=reply.id)
