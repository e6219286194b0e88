"""Roles are data, permissions are an enum; the role matrix is this one table.

docs/role-matrix.md is this table in prose, and tests/workspaces/test_role_matrix.py checks the
running service against it.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


# Higher rank can do everything a lower rank can; used to stop admins managing owners.
ROLE_RANK: dict[Role, int] = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


class WorkspacePermission(StrEnum):
    WORKSPACE_READ = "workspace.read"
    WORKSPACE_UPDATE = "workspace.update"
    WORKSPACE_DELETE = "workspace.delete"
    MEMBERS_READ = "members.read"
    MEMBERS_MANAGE = "members.manage"
    MEMBERS_INVITE = "members.invite"
    API_KEYS_MANAGE = "api_keys.manage"
    BOTS_READ = "bots.read"
    BOTS_MANAGE = "bots.manage"
    CHAT = "conversations.chat"
    CONVERSATIONS_READ = "conversations.read"
    FILES_READ = "files.read"
    FILES_WRITE = "files.write"
    WEBHOOKS_MANAGE = "webhooks.manage"


_READ = frozenset(
    {
        WorkspacePermission.WORKSPACE_READ,
        WorkspacePermission.MEMBERS_READ,
        WorkspacePermission.BOTS_READ,
        WorkspacePermission.CONVERSATIONS_READ,
        WorkspacePermission.FILES_READ,
    }
)
_MEMBER = _READ | {WorkspacePermission.CHAT, WorkspacePermission.FILES_WRITE}
_ADMIN = _MEMBER | {
    WorkspacePermission.WORKSPACE_UPDATE,
    WorkspacePermission.MEMBERS_MANAGE,
    WorkspacePermission.MEMBERS_INVITE,
    WorkspacePermission.API_KEYS_MANAGE,
    WorkspacePermission.BOTS_MANAGE,
    WorkspacePermission.WEBHOOKS_MANAGE,
}
_OWNER = _ADMIN | {WorkspacePermission.WORKSPACE_DELETE}

ROLE_PERMISSIONS: dict[Role, frozenset[WorkspacePermission]] = {
    Role.VIEWER: _READ,
    Role.MEMBER: frozenset(_MEMBER),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_OWNER),
}


def role_allows(role: Role, permission: WorkspacePermission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
