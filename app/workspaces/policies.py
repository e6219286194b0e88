"""Small policy functions over a visible membership. Each answers one question."""

from __future__ import annotations

import uuid

from app.auth.principal import Principal
from app.workspaces.permissions import ROLE_RANK, Role, WorkspacePermission


def can_manage_member(principal: Principal, workspace_id: uuid.UUID, target_role: Role) -> bool:
    """May the caller change or remove a member who currently holds ``target_role``?"""
    actor = principal.role_in(workspace_id)
    if actor is None or not principal.can(workspace_id, WorkspacePermission.MEMBERS_MANAGE):
        return False
    return ROLE_RANK[actor] >= ROLE_RANK[target_role]


def can_grant_role(principal: Principal, workspace_id: uuid.UUID, new_role: Role) -> bool:
    """May the caller give someone ``new_role`` (by role change or invitation)? Only owners
    make owners; admins grant up to admin."""
    actor = principal.role_in(workspace_id)
    if actor is None:
        return False
    return ROLE_RANK[actor] >= ROLE_RANK[new_role]
