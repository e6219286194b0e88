"""The one typed answer to "who is calling, and what may they reach?" for a request.

Resolved once per request by ``app.identity.dependencies`` from the session cookie or the API key,
then handed to services. It is frozen: nothing downstream can widen it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.identity.permissions import Role, WorkspacePermission, role_allows
from app.identity.scopes import Scope, permissions_for_scopes


class PrincipalKind(StrEnum):
    SESSION = "session"
    API_KEY = "api_key"


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    user_id: uuid.UUID
    email: str
    is_staff: bool
    # workspace id -> the caller's current role there (read from the database this request).
    roles: Mapping[uuid.UUID, Role]
    session_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    # None for sessions (all that the role allows); a key's scopes otherwise.
    scopes: frozenset[Scope] | None = None
    email_verified: bool = False
    # Sessions only: a second factor is enrolled, and when this session last presented one.
    has_second_factor: bool = False
    factor_verified_at: datetime | None = None
    # Workspaces this member belongs to but may not reach until they enrol a factor (policy).
    factor_required_workspaces: frozenset[uuid.UUID] = frozenset()
    _scope_permissions: frozenset[WorkspacePermission] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.scopes is not None:
            object.__setattr__(self, "_scope_permissions", permissions_for_scopes(self.scopes))

    @property
    def is_session(self) -> bool:
        return self.kind is PrincipalKind.SESSION

    def factor_fresh(self, now: datetime, max_age_seconds: int) -> bool:
        """This session presented a second factor within ``max_age_seconds`` (step-up)."""
        verified = self.factor_verified_at
        return verified is not None and now - verified <= timedelta(seconds=max_age_seconds)

    def role_in(self, workspace_id: uuid.UUID) -> Role | None:
        return self.roles.get(workspace_id)

    def can(self, workspace_id: uuid.UUID, permission: WorkspacePermission) -> bool:
        """Both gates: the workspace role allows it and, for API keys, a scope grants it."""
        role = self.roles.get(workspace_id)
        if role is None or not role_allows(role, permission):
            return False
        return self._scope_permissions is None or permission in self._scope_permissions

    @property
    def log_context(self) -> dict[str, str]:
        context = {"principal_kind": self.kind.value, "user_id": str(self.user_id)}
        if self.api_key_id is not None:
            context["api_key_id"] = str(self.api_key_id)
        return context
