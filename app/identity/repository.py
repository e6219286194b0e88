"""Credential lookups and the row-level-security context of a transaction.

The ``app.*`` settings written here are what the PostgreSQL policies read
(``migrations/…_row_level_security``). They are set with ``set_config(…, true)``, the function
form of ``SET LOCAL``: they vanish at commit or rollback, so a pooled connection never carries
one request's context into the next.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, LargeBinary, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping

from app.core.repository import Repository
from app.identity.models import ApiKey, UserSession, WorkspaceMembership
from app.identity.permissions import Role
from app.identity.principal import Principal
from app.identity.snapshot import AuthenticatedUser

# Authentication is one statement: a PL/pgSQL function per credential kind (migration 0012,
# "authenticate in one round trip") looks up the credential, binds ``app.user_id``,
# ``app.is_staff`` and ``app.workspace_ids`` in the order the row-level-security policies need,
# and returns the caller's columns with their memberships. The SQL text is fixed and its
# parameters bound, so asyncpg reuses one prepared statement per connection and SQLAlchemy
# compiles nothing per request (docs/performance.md). Columns are read by name.
# Re-binding a known principal or a job's scope: one prebuilt statement, values bound.
_BIND = select(
    func.set_config("app.user_id", bindparam("user_id"), True),
    func.set_config("app.workspace_ids", bindparam("workspace_ids"), True),
    func.set_config("app.is_staff", "off", True),
)
_BIND_WORKSPACES = select(func.set_config("app.workspace_ids", bindparam("workspace_ids"), True))
_USER_COLUMNS = ("user_id", "email", "display_name", "is_staff", "email_verified_at", "created_at")
_MEMBERSHIP_COLUMNS = ("workspace_ids", "roles")
_AUTHENTICATE_SESSION = select(
    func.app_authenticate_session(
        bindparam("token_hashes", type_=ARRAY(LargeBinary)),
        bindparam("now", type_=DateTime(timezone=True)),
    ).table_valued(
        "session_id",
        "last_seen_at",
        "token_hash",
        "factor_verified_at",
        "second_factor_at",
        *_USER_COLUMNS,
        *_MEMBERSHIP_COLUMNS,
        "withheld",
    )  # fmt: skip
)
_AUTHENTICATE_API_KEY = select(
    func.app_authenticate_api_key(
        bindparam("key_hash", type_=LargeBinary), bindparam("now", type_=DateTime(timezone=True))
    ).table_valued(
        "key_id", "workspace_id", "scopes", "last_used_at", *_USER_COLUMNS, *_MEMBERSHIP_COLUMNS
    )
)


@dataclass(frozen=True, slots=True)
class BoundMemberships:
    """The caller's roles in the workspaces bound as ``app.workspace_ids``, and the workspaces
    withheld (member, but the owners require a second factor the caller has not enrolled)."""

    roles: dict[uuid.UUID, Role]
    withheld: frozenset[uuid.UUID] = frozenset()


def _authenticated_user(columns: RowMapping) -> AuthenticatedUser:
    """The caller's own columns (``_USER_COLUMNS_BINDING_USER``), by name."""
    return AuthenticatedUser(
        id=columns["user_id"],
        email=columns["email"],
        display_name=columns["display_name"],
        is_staff=columns["is_staff"],
        email_verified_at=columns["email_verified_at"],
        created_at=columns["created_at"],
    )


def _memberships(columns: RowMapping) -> BoundMemberships:
    """The roles bound as ``app.workspace_ids`` and the withheld workspaces, by name."""
    withheld = frozenset(columns.get("withheld") or ())
    ids, roles = columns["workspace_ids"] or (), columns["roles"] or ()
    bound = {ws: Role(role) for ws, role in zip(ids, roles, strict=True) if ws not in withheld}
    return BoundMemberships(bound, withheld)


@dataclass(frozen=True, slots=True)
class LiveSession:
    id: uuid.UUID
    last_seen_at: datetime
    token_hash: bytes  # whichever of the presented hashes matched
    factor_verified_at: datetime | None = None  # step-up freshness (docs/mfa.md)
    second_factor_at: datetime | None = None  # the user has a second factor enrolled


@dataclass(frozen=True, slots=True)
class LiveApiKey:
    id: uuid.UUID
    workspace_id: uuid.UUID
    scopes: tuple[str, ...]
    last_used_at: datetime | None


class PrincipalContextRepository(Repository[WorkspaceMembership]):
    model = WorkspaceMembership

    async def authenticate_session(
        self, token_hashes: Sequence[bytes], now: datetime
    ) -> tuple[LiveSession, AuthenticatedUser, BoundMemberships] | None:
        """A live session (under any hash of the key ring) of an active user, in one statement
        that also binds the transaction's RLS context (``app_authenticate_session``).

        ``user_session`` and ``user_account`` carry no RLS (authentication precedes any
        principal). The memberships are read while ``app.membership_probe`` admits the caller's
        own rows, bound as ``app.workspace_ids`` and the probe cleared, before the call returns;
        from then on memberships are visible only through the workspace policy. Without a second
        factor, the workspaces whose owners require one are left out of the roles and of
        ``app.workspace_ids`` and named in ``withheld`` (docs/mfa.md).
        """
        connection = await self.session.connection()
        parameters = {"token_hashes": list(token_hashes), "now": now}
        row = (await connection.execute(_AUTHENTICATE_SESSION, parameters)).one_or_none()
        if row is None:
            return None
        columns = row._mapping
        live = LiveSession(
            id=columns["session_id"],
            last_seen_at=columns["last_seen_at"],
            token_hash=bytes(columns["token_hash"]),
            factor_verified_at=columns["factor_verified_at"],
            second_factor_at=columns["second_factor_at"],
        )
        return live, _authenticated_user(columns), _memberships(columns)

    async def authenticate_api_key(
        self, key_hash: bytes, now: datetime
    ) -> tuple[LiveApiKey, AuthenticatedUser, BoundMemberships] | None:
        """A live API key of an active creator, and the creator's role in the key's workspace
        bound as ``app.workspace_ids`` (``app_authenticate_api_key``), in one statement.

        ``api_key`` is RLS-protected; its SELECT policy shows a row to a transaction that
        presents the row's own hash in ``app.credential_hash`` (holding the key is the
        capability to see it). Nothing else becomes visible, and the hash is cleared again
        before anything else runs. A key never sees its creator's other workspaces; a creator
        no longer a member binds nothing (empty roles: the caller refuses the key).
        """
        connection = await self.session.connection()
        parameters = {"key_hash": key_hash, "now": now}
        row = (await connection.execute(_AUTHENTICATE_API_KEY, parameters)).one_or_none()
        if row is None:
            return None
        columns = row._mapping
        key = LiveApiKey(
            id=columns["key_id"],
            workspace_id=columns["workspace_id"],
            scopes=tuple(columns["scopes"]),
            last_used_at=columns["last_used_at"],
        )
        return key, _authenticated_user(columns), _memberships(columns)

    async def bind_principal(self, principal: Principal) -> None:
        """Re-bind an already authenticated principal in a new transaction (background work that
        outlives its request, such as a streamed answer). Nothing is widened: the same user and
        the same workspaces the request had."""
        workspaces = ",".join(str(ws) for ws in principal.roles)
        await self._bind(str(principal.user_id), workspaces)

    async def bind_worker_scope(
        self, workspace_id: uuid.UUID, *, user_id: uuid.UUID | None = None
    ) -> None:
        """Scope a worker transaction to exactly one workspace (the job's own).

        Background jobs act for no user: they see one tenant's rows, the one the job row names,
        and nothing else, so a job bug cannot reach across workspaces either. A job about rows
        private to one user (a conversation's messages) also names that user, the one its job
        row names, and sees only that user's private rows.
        """
        await self._bind("" if user_id is None else str(user_id), str(workspace_id))

    async def extend_workspace_context(
        self, current: Sequence[uuid.UUID], workspace_id: uuid.UUID
    ) -> None:
        """Add one workspace to this transaction's context (after a service checked why)."""
        value = ",".join(str(ws) for ws in (*current, workspace_id))
        connection = await self.session.connection()
        await connection.execute(_BIND_WORKSPACES, {"workspace_ids": value})

    async def _bind(self, user_id: str, workspace_ids: str) -> None:
        connection = await self.session.connection()
        await connection.execute(_BIND, {"user_id": user_id, "workspace_ids": workspace_ids})

    async def touch_session(
        self, session_id: uuid.UUID, now: datetime, idle_until: datetime
    ) -> None:
        await self.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id)
            .values(
                last_seen_at=now,
                idle_expires_at=func.least(idle_until, UserSession.absolute_expires_at),
            )
        )

    async def touch_api_key(self, key_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now)
        )

    # Lazy migration after a SECRET_KEY rotation: a credential presented under a previous key
    # is stored again under the current one. Conditional on the old hash, so two concurrent
    # requests re-hash once and neither fails.
    async def rehash_session(self, session_id: uuid.UUID, old: bytes, new: bytes) -> None:
        await self.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.token_hash == old)
            .values(token_hash=new)
        )

    async def rehash_api_key(self, key_id: uuid.UUID, old: bytes, new: bytes) -> None:
        await self.session.execute(
            update(ApiKey).where(ApiKey.id == key_id, ApiKey.key_hash == old).values(key_hash=new)
        )


class SessionRepository(Repository[UserSession]):
    """A user's own sessions. Every method takes the owning user id: no cross-user reach."""

    model = UserSession

    async def list_live(self, user_id: uuid.UUID, now: datetime) -> Sequence[UserSession]:
        return await self.get_all(
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.idle_expires_at > now,
                UserSession.absolute_expires_at > now,
            )
            .order_by(UserSession.created_at.desc())
            .limit(100)
        )

    async def get_live_of_user(
        self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
    ) -> UserSession | None:
        return await self.get_one_or_none(
            select(UserSession).where(
                UserSession.id == session_id,
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.absolute_expires_at > now,
            )
        )

    async def revoke_all(
        self, user_id: uuid.UUID, now: datetime, *, except_session: uuid.UUID | None = None
    ) -> int:
        statement = update(UserSession).where(
            UserSession.user_id == user_id, UserSession.revoked_at.is_(None)
        )
        if except_session is not None:
            statement = statement.where(UserSession.id != except_session)
        result = await self.session.execute(statement.values(revoked_at=now))
        return int(getattr(result, "rowcount", 0) or 0)
