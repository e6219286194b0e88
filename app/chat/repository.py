"""The reads a chat turn makes across its domains, each in one statement (docs/performance.md,
"Round 3: the chat turn"): the conversation with its bot, and the history with a flag saying
which of its messages have attachments (so the attachment look-up runs only when one does)."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, exists, select

from app.bots.models import Bot
from app.conversations.models import Conversation, Message, MessageStatus
from app.core.repository import Repository
from app.files.models import MessageFile
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.workspaces.access import accessible_workspace_ids, within


class TurnRepository(Repository[Conversation]):
    """Scoped exactly as the per-domain reads it replaces: the conversation as
    ``ConversationRepository.get_readable`` (the caller's own, in a workspace they may read
    conversations in), the bot as ``BotRepository.get_for_chat`` (in a workspace where they may
    chat, and the conversation's own), the history as ``MessageRepository`` reads (the caller's
    own messages). RLS filters every table of both statements again."""

    model = Conversation

    async def conversation_with_bot(
        self, principal: Principal, conversation_id: uuid.UUID
    ) -> tuple[Conversation, Bot | None] | None:
        """The caller's conversation and its bot (None: the bot is gone, or not in a workspace
        where the caller may chat); None when the conversation is not the caller's."""
        readable = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
        chat = accessible_workspace_ids(principal, WorkspacePermission.CHAT)
        statement = (
            select(Conversation, Bot)
            .outerjoin(
                Bot,
                and_(
                    Bot.id == Conversation.bot_id,
                    Bot.workspace_id == Conversation.workspace_id,
                    within(Bot.workspace_id, chat),
                ),
            )
            .where(
                Conversation.id == conversation_id,
                within(Conversation.workspace_id, readable),
                Conversation.user_id == principal.user_id,
            )
        )
        row = (await self.session.execute(statement)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def history(
        self, principal: Principal, conversation_id: uuid.UUID, limit: int
    ) -> list[tuple[Message, bool]]:
        """The last ``limit`` finished turns of the caller's conversation, oldest first (the
        only context the model sees), each with whether it has any attachment link. The flag
        only decides whether to look attachments up: the look-up itself
        (``MessageFileRepository.attached_files``) applies every rule (clean files, the
        caller's own messages, readable workspaces); a link it would refuse is skipped there."""
        ids = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
        attached = exists().where(MessageFile.message_id == Message.id)
        statement = (
            select(Message, attached.label("attached"))
            .where(
                within(Message.workspace_id, ids),
                Message.user_id == principal.user_id,
                Message.conversation_id == conversation_id,
                Message.status != MessageStatus.STREAMING,
                Message.content != "",
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
        rows = (await self.session.execute(statement)).all()
        return [(row[0], bool(row[1])) for row in reversed(rows)]
