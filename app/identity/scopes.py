"""API-key scopes and what each grants. Token scopes and workspace roles are two gates.

A key's effective permission in its workspace is ``role(creator) ∩ scopes(key)``. Scopes never
grant member management, invitations, API-key management or workspace deletion: a leaked key
cannot take over a workspace or mint more keys.
"""

from __future__ import annotations

from enum import StrEnum

from app.identity.permissions import WorkspacePermission as P


class Scope(StrEnum):
    WORKSPACE_READ = "workspace:read"
    BOTS_READ = "bots:read"
    BOTS_WRITE = "bots:write"
    CONVERSATIONS_READ = "conversations:read"
    CONVERSATIONS_WRITE = "conversations:write"
    FILES_READ = "files:read"
    FILES_WRITE = "files:write"
    WEBHOOKS_MANAGE = "webhooks:manage"


SCOPE_GRANTS: dict[Scope, frozenset[P]] = {
    Scope.WORKSPACE_READ: frozenset({P.WORKSPACE_READ, P.MEMBERS_READ}),
    Scope.BOTS_READ: frozenset({P.BOTS_READ}),
    Scope.BOTS_WRITE: frozenset({P.BOTS_READ, P.BOTS_MANAGE}),
    Scope.CONVERSATIONS_READ: frozenset({P.CONVERSATIONS_READ}),
    Scope.CONVERSATIONS_WRITE: frozenset({P.CONVERSATIONS_READ, P.CHAT}),
    Scope.FILES_READ: frozenset({P.FILES_READ}),
    Scope.FILES_WRITE: frozenset({P.FILES_READ, P.FILES_WRITE}),
    Scope.WEBHOOKS_MANAGE: frozenset({P.WEBHOOKS_MANAGE}),
}


def permissions_for_scopes(scopes: frozenset[Scope]) -> frozenset[P]:
    granted: set[P] = set()
    for scope in scopes:
        granted |= SCOPE_GRANTS[scope]
    return frozenset(granted)
