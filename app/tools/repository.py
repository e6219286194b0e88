from __future__ import annotations

import uuid

from sqlalchemy import Select, or_, select

from app.core.pagination import PageParams
from app.core.repository import PageResult, Repository
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.tools.models import Note, ToolCall
from app.workspaces.access import accessible_workspace_ids, within


class ToolCallRepository(Repository[ToolCall]):
    model = ToolCall

    def readable_statement(self, principal: Principal) -> Select[ToolCall]:
        """Tool calls of the caller's own conversations, plus every tool call in workspaces
        where the caller administers members (admins review what bots did)."""
        readable = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
        administered = accessible_workspace_ids(principal, WorkspacePermission.MEMBERS_MANAGE)
        return select(ToolCall).where(
            within(ToolCall.workspace_id, readable),
            or_(ToolCall.user_id == principal.user_id, within(ToolCall.workspace_id, administered)),
        )

    async def list_for_conversation(
        self, principal: Principal, conversation_id: uuid.UUID, params: PageParams
    ) -> PageResult[ToolCall]:
        return await self.paginate(
            self.readable_statement(principal).where(ToolCall.conversation_id == conversation_id),
            params,
        )

    async def any_for_conversation(self, principal: Principal, conversation_id: uuid.UUID) -> bool:
        statement = self.readable_statement(principal).where(
            ToolCall.conversation_id == conversation_id
        )
        return await self.get_one_or_none(statement.limit(1)) is not None

    async def list_for_message(self, principal: Principal, message_id: uuid.UUID) -> list[ToolCall]:
        statement = (
            self.readable_statement(principal)
            .where(ToolCall.message_id == message_id)
            .order_by(ToolCall.created_at, ToolCall.id)
        )
        return list(await self.get_all(statement))


class NoteRepository(Repository[Note]):
    model = Note

    def readable_statement(self, principal: Principal) -> Select[Note]:
        ids = accessible_workspace_ids(principal, WorkspacePermission.CONVERSATIONS_READ)
        return select(Note).where(within(Note.workspace_id, ids))

    async def list_readable(self, principal: Principal, params: PageParams) -> PageResult[Note]:
        return await self.paginate(self.readable_statement(principal), params)
