"""The only source of workspace ids a caller may touch.

``AccessibleWorkspaceID`` is a NewType: a bare ``uuid.UUID`` from a path or body does not
type-check where repositories expect an accessible id, so an unchecked id cannot reach a query.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, NewType

from sqlalchemy import ColumnElement, Uuid, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal

AccessibleWorkspaceID = NewType("AccessibleWorkspaceID", uuid.UUID)


def accessible_workspace_ids(
    principal: Principal, permission: WorkspacePermission = WorkspacePermission.WORKSPACE_READ
) -> list[AccessibleWorkspaceID]:
    """Workspaces where the caller's role *and* key scopes allow ``permission``.

    Derived from memberships read this request, so a removal or demotion takes effect on the
    very next request. It does not check object-level rules inside a workspace (for example
    that a conversation is private to its user); those live in each domain's policies.
    """
    return [
        AccessibleWorkspaceID(workspace_id)
        for workspace_id in principal.roles
        if principal.can(workspace_id, permission)
    ]


def checked_workspace_id(
    principal: Principal, workspace_id: uuid.UUID, permission: WorkspacePermission
) -> AccessibleWorkspaceID | None:
    """``workspace_id`` as an accessible id if the caller may ``permission`` there, else None."""
    if principal.can(workspace_id, permission):
        return AccessibleWorkspaceID(workspace_id)
    return None


def within(column: Any, workspace_ids: Iterable[uuid.UUID]) -> ColumnElement[bool]:
    """``column = ANY(:ids)`` with the ids bound as one array parameter.

    The same filter as ``column.in_(ids)``, but the statement's shape does not depend on how many
    workspaces the caller has: one compiled-cache entry and one prepared statement serve every
    caller, and nothing is expanded per execution (docs/performance.md, "Round 4").
    """
    return column == any_(bindparam(None, list(workspace_ids), type_=ARRAY(Uuid)))  # type: ignore[no-any-return]


def within_bound(column: Any, name: str) -> ColumnElement[bool]:
    """``within`` for a statement built once: the ids are bound at execution as ``name``."""
    return column == any_(bindparam(name, type_=ARRAY(Uuid)))  # type: ignore[no-any-return]
