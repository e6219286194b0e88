from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select

from app.core.pagination import PageParams, decode_cursor, encode_cursor
from app.core.repository import PageResult, Repository
from app.identity.models import User, Workspace, WorkspaceMembership
from app.identity.permissions import Role, WorkspacePermission
from app.identity.principal import Principal
from app.workspaces.access import AccessibleWorkspaceID, accessible_workspace_ids, within


class WorkspaceRepository(Repository[Workspace]):
    model = Workspace

    def readable_statement(self, principal: Principal) -> Select[Workspace]:
        """Workspaces the caller may read. Every read path starts here."""
        ids = accessible_workspace_ids(principal, WorkspacePermission.WORKSPACE_READ)
        return select(Workspace).where(within(Workspace.id, ids))

    async def get_readable(self, principal: Principal, workspace_id: uuid.UUID) -> Workspace | None:
        return await self.get_one_or_none(
            self.readable_statement(principal).where(Workspace.id == workspace_id)
        )

    async def list_readable(
        self, principal: Principal, params: PageParams
    ) -> PageResult[Workspace]:
        return await self.paginate(self.readable_statement(principal), params)


class MembershipRepository(Repository[WorkspaceMembership]):
    """Memberships of one accessible workspace at a time (the id type proves it was checked)."""

    model = WorkspaceMembership

    async def list_members(
        self, workspace_id: AccessibleWorkspaceID, params: PageParams
    ) -> tuple[list[tuple[WorkspaceMembership, User]], str | None]:
        statement = (
            select(WorkspaceMembership, User)
            .join(User, User.id == WorkspaceMembership.user_id)
            .where(WorkspaceMembership.workspace_id == workspace_id)
        )
        if params.cursor:
            created_at, row_id = decode_cursor(params.cursor)
            statement = statement.where(
                (WorkspaceMembership.created_at > created_at)
                | (
                    (WorkspaceMembership.created_at == created_at)
                    & (WorkspaceMembership.id > row_id)
                )
            )
        statement = statement.order_by(
            WorkspaceMembership.created_at, WorkspaceMembership.id
        ).limit(params.limit + 1)
        rows = [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]
        next_cursor = None
        if len(rows) > params.limit:
            rows = rows[: params.limit]
            last = rows[-1][0]
            next_cursor = encode_cursor(last.created_at, last.id)
        return rows, next_cursor

    async def get_member(
        self, workspace_id: AccessibleWorkspaceID, user_id: uuid.UUID
    ) -> tuple[WorkspaceMembership, User] | None:
        row = (
            await self.session.execute(
                select(WorkspaceMembership, User)
                .join(User, User.id == WorkspaceMembership.user_id)
                .where(
                    WorkspaceMembership.workspace_id == workspace_id,
                    WorkspaceMembership.user_id == user_id,
                )
                .with_for_update(of=WorkspaceMembership)
            )
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    async def is_member(self, workspace_id: AccessibleWorkspaceID, email: str) -> bool:
        statement = (
            select(func.count())
            .select_from(WorkspaceMembership)
            .join(User, User.id == WorkspaceMembership.user_id)
            .where(WorkspaceMembership.workspace_id == workspace_id, User.email == email)
        )
        return bool((await self.session.execute(statement)).scalar_one())

    async def owner_ids(self, workspace_id: AccessibleWorkspaceID) -> Sequence[uuid.UUID]:
        """Owners, row-locked: two owners leaving at once cannot both pass the last-owner check."""
        statement = (
            select(WorkspaceMembership.user_id)
            .where(
                WorkspaceMembership.workspace_id == workspace_id,
                WorkspaceMembership.role == Role.OWNER,
            )
            .with_for_update()
        )
        return (await self.session.execute(statement)).scalars().all()

    async def remove(self, workspace_id: AccessibleWorkspaceID, user_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(WorkspaceMembership).where(
                WorkspaceMembership.workspace_id == workspace_id,
                WorkspaceMembership.user_id == user_id,
            )
        )
