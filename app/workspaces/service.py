"""Workspaces and their members.

Visibility first, then permission: a workspace the caller cannot read is *missing* (404, the same
as a random id); one it can read but may not change is *forbidden* (403).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.errors import Forbidden, NotFound
from app.core.pagination import PageParams
from app.identity.models import Workspace, WorkspaceMembership
from app.identity.permissions import Role, WorkspacePermission
from app.identity.principal import Principal
from app.identity.repository import PrincipalContextRepository
from app.workspaces.access import AccessibleWorkspaceID, checked_workspace_id
from app.workspaces.errors import LastOwner
from app.workspaces.policies import (
    can_grant_role,
    can_manage_member,
    check_second_factor_policy_change,
)
from app.workspaces.repository import MembershipRepository, WorkspaceRepository
from app.workspaces.schemas import MemberList, MemberRead, WorkspaceList, WorkspaceRead


def _read(workspace: Workspace, principal: Principal) -> WorkspaceRead:
    role = principal.role_in(workspace.id)
    assert role is not None
    return WorkspaceRead(
        id=workspace.id,
        name=workspace.name,
        role=role,
        created_at=workspace.created_at,
        require_second_factor=workspace.require_second_factor,
    )


async def load_workspace(
    session: AsyncSession,
    principal: Principal,
    workspace_id: uuid.UUID,
    permission: WorkspacePermission,
) -> tuple[Workspace, AccessibleWorkspaceID]:
    """The workspace row and its accessible id, if visible and ``permission`` is allowed.

    Raises 404 when the caller cannot read it (foreign = missing) and 403 when it can read it but
    lacks ``permission``. Reads the row through the scoped statement, so RLS agrees.
    """
    workspace = await WorkspaceRepository(session).get_readable(principal, workspace_id)
    if workspace is None:
        raise NotFound()
    checked = checked_workspace_id(principal, workspace_id, permission)
    if checked is None:
        raise Forbidden("Your role in this workspace does not allow this.")
    return workspace, checked


async def require_workspace(
    session: AsyncSession,
    principal: Principal,
    workspace_id: uuid.UUID,
    permission: WorkspacePermission,
) -> AccessibleWorkspaceID:
    """``load_workspace`` for callers that need only the checked id."""
    _, checked = await load_workspace(session, principal, workspace_id, permission)
    return checked


def require_collection(
    principal: Principal,
    workspace_id: uuid.UUID,
    permission: WorkspacePermission,
    *,
    visible_with: WorkspacePermission,
) -> AccessibleWorkspaceID:
    """``require_workspace`` for a workspace's collections (bots, conversations).

    The collection is visible when the caller may read the workspace *or* the collection itself
    (``visible_with``), so a ``bots:read`` key lists its workspace's bots without also holding
    ``workspace:read``; otherwise 404, like a random id. Visible but without ``permission``: 403.
    Decided from the memberships read this request (the same ones RLS is bound to).
    """
    visible = checked_workspace_id(principal, workspace_id, WorkspacePermission.WORKSPACE_READ)
    if visible is None and checked_workspace_id(principal, workspace_id, visible_with) is None:
        raise NotFound()
    checked = checked_workspace_id(principal, workspace_id, permission)
    if checked is None:
        raise Forbidden("Your role in this workspace does not allow this.")
    return checked


async def create_workspace(
    session: AsyncSession, principal: Principal, *, name: str
) -> WorkspaceRead:
    """Create a workspace owned by the caller."""
    workspace_id = uuid.uuid4()
    # The new workspace joins this transaction's RLS context so its rows can be written.
    await PrincipalContextRepository(session).extend_workspace_context(
        list(principal.roles), workspace_id
    )
    workspace = await WorkspaceRepository(session).create(Workspace(id=workspace_id, name=name))
    await MembershipRepository(session).create(
        WorkspaceMembership(
            id=uuid.uuid4(), workspace_id=workspace_id, user_id=principal.user_id, role=Role.OWNER
        )
    )
    await audit.record(session, "workspace.created", principal=principal, workspace_id=workspace_id)
    return WorkspaceRead(
        id=workspace.id, name=workspace.name, role=Role.OWNER, created_at=workspace.created_at
    )


async def list_workspaces(
    session: AsyncSession, principal: Principal, params: PageParams
) -> WorkspaceList:
    page = await WorkspaceRepository(session).list_readable(principal, params)
    return WorkspaceList(
        items=[_read(w, principal) for w in page.items], next_cursor=page.next_cursor
    )


async def get_workspace(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID
) -> WorkspaceRead:
    workspace = await WorkspaceRepository(session).get_readable(principal, workspace_id)
    if workspace is None:
        raise NotFound()
    return _read(workspace, principal)


async def update_workspace(
    session: AsyncSession,
    principal: Principal,
    workspace_id: uuid.UUID,
    *,
    name: str | None,
    require_second_factor: bool | None = None,
    step_up_max_age_seconds: int,
) -> WorkspaceRead:
    workspace, _ = await load_workspace(
        session, principal, workspace_id, WorkspacePermission.WORKSPACE_UPDATE
    )
    if name is not None:
        workspace.name = name
    details = None
    if require_second_factor is not None:
        check_second_factor_policy_change(
            principal,
            workspace_id,
            require_second_factor,
            factor_fresh=principal.factor_fresh(datetime.now(UTC), step_up_max_age_seconds),
        )
        workspace.require_second_factor = require_second_factor
        details = {"require_second_factor": require_second_factor}
    await session.flush()
    await audit.record(
        session,
        "workspace.updated",
        principal=principal,
        workspace_id=workspace_id,
        details=details,
    )
    return _read(workspace, principal)


async def delete_workspace(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID
) -> None:
    workspace, _ = await load_workspace(
        session, principal, workspace_id, WorkspacePermission.WORKSPACE_DELETE
    )
    await WorkspaceRepository(session).delete(workspace)
    await audit.record(session, "workspace.deleted", principal=principal, workspace_id=workspace_id)


async def list_members(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, params: PageParams
) -> MemberList:
    ws = await require_workspace(session, principal, workspace_id, WorkspacePermission.MEMBERS_READ)
    rows, next_cursor = await MembershipRepository(session).list_members(ws, params)
    return MemberList(
        items=[
            MemberRead(
                user_id=u.id,
                email=u.email,
                display_name=u.display_name,
                role=m.role,
                joined_at=m.created_at,
            )
            for m, u in rows
        ],
        next_cursor=next_cursor,
    )


async def change_member_role(
    session: AsyncSession,
    principal: Principal,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    role: Role,
) -> MemberRead:
    """Change a member's role; owners may transfer ownership by making another member owner."""
    ws = await require_workspace(session, principal, workspace_id, WorkspacePermission.MEMBERS_READ)
    members = MembershipRepository(session)
    found = await members.get_member(ws, user_id)
    if found is None:
        raise NotFound()
    membership, user = found
    if not can_manage_member(principal, ws, membership.role) or not can_grant_role(
        principal, ws, role
    ):
        raise Forbidden("Your role does not allow this change.")
    if membership.role is Role.OWNER and role is not Role.OWNER:
        await _keep_an_owner(members, ws, leaving=user_id)
    old_role = membership.role
    membership.role = role
    await session.flush()
    await audit.record(
        session,
        "member.role_changed",
        principal=principal,
        workspace_id=ws,
        target_type="user",
        target_id=user_id,
        details={"from": old_role.value, "to": role.value},
    )
    return MemberRead(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=role,
        joined_at=membership.created_at,
    )


async def remove_member(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Remove a member, or leave when ``user_id`` is the caller. The last owner cannot leave."""
    ws = await require_workspace(
        session, principal, workspace_id, WorkspacePermission.WORKSPACE_READ
    )
    members = MembershipRepository(session)
    found = await members.get_member(ws, user_id)
    if found is None:
        raise NotFound()
    membership, _ = found
    leaving_self = user_id == principal.user_id and principal.is_session
    if not leaving_self and not can_manage_member(principal, ws, membership.role):
        raise Forbidden("Your role does not allow removing this member.")
    if membership.role is Role.OWNER:
        await _keep_an_owner(members, ws, leaving=user_id)
    await members.remove(ws, user_id)
    await audit.record(
        session,
        "member.removed",
        principal=principal,
        workspace_id=ws,
        target_type="user",
        target_id=user_id,
    )


async def _keep_an_owner(
    members: MembershipRepository, ws: AccessibleWorkspaceID, *, leaving: uuid.UUID
) -> None:
    owners = await members.owner_ids(ws)
    if not [owner for owner in owners if owner != leaving]:
        raise LastOwner("Make another member owner first.")
