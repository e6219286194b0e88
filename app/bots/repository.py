from __future__ import annotations

import uuid

from sqlalchemy import Select, select

from app.bots.models import Bot
from app.core.pagination import PageParams
from app.core.repository import PageResult, Repository
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.workspaces.access import AccessibleWorkspaceID, accessible_workspace_ids, within


class BotRepository(Repository[Bot]):
    model = Bot

    def readable_statement(self, principal: Principal) -> Select[Bot]:
        """Bots in workspaces where the caller may read bots. Every read path starts here."""
        ids = accessible_workspace_ids(principal, WorkspacePermission.BOTS_READ)
        return select(Bot).where(within(Bot.workspace_id, ids))

    async def get_readable(self, principal: Principal, bot_id: uuid.UUID) -> Bot | None:
        return await self.get_one_or_none(
            self.readable_statement(principal).where(Bot.id == bot_id)
        )

    async def get_for_chat(self, principal: Principal, bot_id: uuid.UUID) -> Bot | None:
        """A bot in a workspace where the caller may chat: a turn needs its settings even when
        the caller's key reads conversations, not bots (``conversations:write`` alone)."""
        ids = accessible_workspace_ids(principal, WorkspacePermission.CHAT)
        return await self.get_one_or_none(
            select(Bot).where(within(Bot.workspace_id, ids), Bot.id == bot_id)
        )

    async def list_in(
        self, principal: Principal, workspace_id: AccessibleWorkspaceID, params: PageParams
    ) -> PageResult[Bot]:
        return await self.paginate(
            self.readable_statement(principal).where(Bot.workspace_id == workspace_id), params
        )
