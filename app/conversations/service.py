"""Conversations: private to the user who started them (see docs/role-matrix.md)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.bots import service as bot_service
from app.conversations.models import Conversation
from app.conversations.repository import ConversationRepository, MessageRepository
from app.conversations.schemas import ConversationList, ConversationRead, MessageList, MessageRead
from app.core.errors import Forbidden, NotFound
from app.core.pagination import PageParams
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.webhooks.events import EventType, emit_event
from app.workspaces import service as workspace_service


async def start_conversation(
    session: AsyncSession, principal: Principal, bot_id: uuid.UUID, *, title: str | None
) -> Conversation:
    """Members (and above) start conversations with a bot they can see; viewers cannot."""
    bot = await bot_service.get_bot(session, principal, bot_id)
    if not principal.can(bot.workspace_id, WorkspacePermission.CHAT):
        raise Forbidden("Your role in this workspace does not allow chatting.")
    conversation = await ConversationRepository(session).create(
        Conversation(
            id=uuid.uuid4(),
            workspace_id=bot.workspace_id,
            bot_id=bot.id,
            user_id=principal.user_id,
            title=title or f"Chat with {bot.name}",
        )
    )
    await emit_event(
        session,
        workspace_id=conversation.workspace_id,
        event_type=EventType.CONVERSATION_CREATED,
        data={
            "conversation_id": conversation.id,
            "bot_id": conversation.bot_id,
            "user_id": conversation.user_id,
            "title": conversation.title,  # only for endpoints that opted in to content
        },
    )
    return conversation


async def list_conversations(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, params: PageParams
) -> ConversationList:
    ws = workspace_service.require_collection(
        principal,
        workspace_id,
        WorkspacePermission.CONVERSATIONS_READ,
        visible_with=WorkspacePermission.CONVERSATIONS_READ,
    )
    page = await ConversationRepository(session).list_in(principal, ws, params)
    return ConversationList(
        items=[ConversationRead.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )


async def get_conversation(
    session: AsyncSession, principal: Principal, conversation_id: uuid.UUID
) -> Conversation:
    """The caller's own conversation; anyone else's (same workspace or not) is not found."""
    conversation = await ConversationRepository(session).get_readable(principal, conversation_id)
    if conversation is None:
        raise NotFound()
    return conversation


async def _get_writable(
    session: AsyncSession, principal: Principal, conversation_id: uuid.UUID
) -> Conversation:
    """The caller's own conversation, if it may also write to it (chat permission: a
    ``conversations:read`` key or a viewer reads its conversations but cannot change them)."""
    conversation = await get_conversation(session, principal, conversation_id)
    if not principal.can(conversation.workspace_id, WorkspacePermission.CHAT):
        raise Forbidden("Your role in this workspace does not allow changing conversations.")
    return conversation


async def rename_conversation(
    session: AsyncSession, principal: Principal, conversation_id: uuid.UUID, *, title: str
) -> Conversation:
    conversation = await _get_writable(session, principal, conversation_id)
    conversation.title = title
    await session.flush()
    return conversation


async def delete_conversation(
    session: AsyncSession, principal: Principal, conversation_id: uuid.UUID
) -> None:
    conversation = await _get_writable(session, principal, conversation_id)
    await ConversationRepository(session).delete(conversation)


async def list_messages(
    session: AsyncSession, principal: Principal, conversation_id: uuid.UUID, params: PageParams
) -> MessageList:
    await get_conversation(session, principal, conversation_id)
    page = await MessageRepository(session).list_in(principal, conversation_id, params)
    return MessageList(
        items=[MessageRead.model_validate(m) for m in page.items], next_cursor=page.next_cursor
    )
