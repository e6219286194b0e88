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
from typing import Any

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Select,
    Text,
    Uuid,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import RowMapping

from app.core.repository import Repository
from app.identity.models import ApiKey, User, UserSession, Workspace, WorkspaceMembership
from app.identity.permissions import Role
from app.identity.principal import Principal
from app.identity.snapshot import AuthenticatedUser

# The two statements every authenticated request runs, built once with bound parameters. Building
# the expression and its compiled-cache key on every request was a large share of an
# authenticated read's CPU (docs/performance.md, "CPU per request"); the SQL is the same as
# building it inline, and only the values are bound per call.
#
# The session lookup selects the columns it needs, not the ``UserSession``/``User`` entities:
# building two ORM instances (identity map, instance state) was about a tenth of /v1/me's CPU,
# and nothing in the request needs them tracked (docs/performance.md).
# The caller's own columns (``AuthenticatedUser``), then binding ``app.user_id`` and the one-shot
# ``app.membership_probe`` in the projection, after the WHERE found a live credential.
_USER_COLUMNS_BINDING_USER = (
    User.id.label("user_id"),
    User.email,
    User.display_name,
    User.is_staff,
    User.email_verified_at,
    User.created_at,
    func.set_config("app.user_id", cast(User.id, Text), True),
    func.set_config("app.membership_probe", cast(User.id, Text), True),
)
# The presented token's hash under every key of the SECRET_KEY ring, in one statement: one index
# probe per key, and a concurrent lazy re-hash (old hash -> current) can never make it miss.
_SESSION_WITH_USER = (
    select(
        UserSession.id.label("session_id"),
        UserSession.last_seen_at,
        UserSession.token_hash,
        *_USER_COLUMNS_BINDING_USER,
        func.set_config(
            "app.is_staff", case((User.is_staff, literal("on")), else_=literal("off")), True
        ),
        UserSession.factor_verified_at,
        User.second_factor_at,
    )
    .join(User, User.id == UserSession.user_id)
    .where(
        UserSession.token_hash == any_(bindparam("token_hashes", type_=ARRAY(LargeBinary))),
        UserSession.revoked_at.is_(None),
        UserSession.idle_expires_at > bindparam("now"),
        UserSession.absolute_expires_at > bindparam("now"),
        User.suspended_at.is_(None),
    )
)


_PRESENT_CREDENTIAL = select(func.set_config("app.credential_hash", bindparam("hash"), True))
_API_KEY_WITH_USER = (
    select(
        ApiKey.id.label("key_id"),
        ApiKey.workspace_id,
        ApiKey.scopes,
        ApiKey.last_used_at,
        *_USER_COLUMNS_BINDING_USER,
    )
    .join(User, User.id == ApiKey.created_by_id)
    .where(
        ApiKey.key_hash == bindparam("key_hash"),
        ApiKey.revoked_at.is_(None),
        (ApiKey.expires_at.is_(None)) | (ApiKey.expires_at > bindparam("now")),
        User.suspended_at.is_(None),
    )
)


def _memberships_statement(*conditions: ColumnElement[bool]) -> Select[Any]:
    return select(
        func.array_agg(WorkspaceMembership.workspace_id).label("ids"),
        func.array_agg(cast(WorkspaceMembership.role, Text)).label("roles"),
        func.set_config(
            "app.workspace_ids",
            func.coalesce(func.string_agg(cast(WorkspaceMembership.workspace_id, Text), ","), ""),
            True,
        ).label("bound"),
        func.set_config("app.membership_probe", "", True),
    ).where(WorkspaceMembership.user_id == bindparam("user_id"), *conditions)


def _withholding_factor_required(memberships: Select[Any]) -> Select[Any]:
    """``memberships``, then (same statement) those of its workspaces whose owners require a
    second factor, taken out of ``app.workspace_ids`` again: for a member without a factor.

    Order is data flow, not luck: the aggregate binds every membership's workspace (``bound``);
    the lateral read of ``workspace`` takes ``bound`` as its parameter, so its RLS policy runs
    after the binding and sees exactly those workspaces; the outer projection then re-binds
    the ones not withheld (``kept``).
    """
    bound = memberships.subquery("m")
    policy = (
        select(
            func.array_agg(Workspace.id).filter(Workspace.require_second_factor).label("withheld"),
            func.string_agg(cast(Workspace.id, Text), ",")
            .filter(~Workspace.require_second_factor)
            .label("kept"),
        )
        .where(Workspace.id == any_(cast(func.string_to_array(bound.c.bound, ","), ARRAY(Uuid))))
        .lateral("p")
    )
    return select(
        bound.c.ids,
        bound.c.roles,
        policy.c.withheld,
        func.set_config("app.workspace_ids", func.coalesce(policy.c.kept, ""), True),
    ).select_from(bound.join(policy, true()))


_MEMBERSHIPS_OF_USER = _memberships_statement()
_MEMBERSHIPS_OF_USER_WITHOUT_FACTOR = _withholding_factor_required(_memberships_statement())
_MEMBERSHIP_IN_WORKSPACE = _memberships_statement(
    WorkspaceMembership.workspace_id == bindparam("workspace_id")
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

    async def session_with_user(
        self, token_hashes: Sequence[bytes], now: datetime
    ) -> tuple[LiveSession, AuthenticatedUser] | None:
        """A live session and its active user; binds ``app.user_id`` (and the one-shot
        ``app.membership_probe``) in the same round trip.

        ``user_session`` and ``user_account`` carry no RLS (authentication precedes any
        principal), so binding the user id in the projection, after the WHERE, is safe.
        """
        parameters = {"token_hashes": list(token_hashes), "now": now}
        connection = await self.session.connection()
        row = (await connection.execute(_SESSION_WITH_USER, parameters)).one_or_none()
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
        return live, _authenticated_user(columns)

    async def api_key_with_user(
        self, key_hash: bytes, now: datetime
    ) -> tuple[LiveApiKey, AuthenticatedUser] | None:
        """A live API key and its active creator.

        ``api_key`` is RLS-protected; its SELECT policy shows a row to a transaction that
        presents the row's own hash in ``app.credential_hash`` (holding the key is the
        capability to see it). Nothing else becomes visible, and the hash is cleared again
        before anything else runs. Columns on the session's connection, as for sessions.
        """
        connection = await self.session.connection()
        await connection.execute(_PRESENT_CREDENTIAL, {"hash": key_hash.hex()})
        row = (
            await connection.execute(_API_KEY_WITH_USER, {"key_hash": key_hash, "now": now})
        ).one_or_none()
        await connection.execute(_PRESENT_CREDENTIAL, {"hash": ""})
        if row is None:
            return None
        columns = row._mapping
        key = LiveApiKey(
            id=columns["key_id"],
            workspace_id=columns["workspace_id"],
            scopes=tuple(columns["scopes"]),
            last_used_at=columns["last_used_at"],
        )
        return key, _authenticated_user(columns)

    async def bind_memberships(
        self,
        user_id: uuid.UUID,
        only_workspace: uuid.UUID | None = None,
        *,
        withhold_factor_required: bool = False,
    ) -> BoundMemberships:
        """Read the user's memberships and bind them as ``app.workspace_ids``, in one statement.

        The membership SELECT policy admits the caller's own rows while ``app.membership_probe``
        is set; this statement's projection runs after those rows are read, binds the workspace
        ids and clears the probe. From then on memberships are visible only through the
        workspace policy: an API key (``only_workspace``) never sees its creator's others.

        ``withhold_factor_required`` (a session without a second factor): the same statement
        leaves out, of the roles and of ``app.workspace_ids``, the workspaces whose owners
        require one, and names them in ``withheld`` (docs/mfa.md).
        """
        statement, parameters = _MEMBERSHIPS_OF_USER, {"user_id": user_id}
        if only_workspace is not None:
            statement = _MEMBERSHIP_IN_WORKSPACE
            parameters = {"user_id": user_id, "workspace_id": only_workspace}
        elif withhold_factor_required:
            statement = _MEMBERSHIPS_OF_USER_WITHOUT_FACTOR
        connection = await self.session.connection()
        row = (await connection.execute(statement, parameters)).one()._mapping
        if not row["ids"]:
            return BoundMemberships({})
        withheld = frozenset(row["withheld"] or ()) if withhold_factor_required else frozenset()
        roles = {
            ws: Role(role)
            for ws, role in zip(row["ids"], row["roles"], strict=True)
            if ws not in withheld
        }
        return BoundMemberships(roles, withheld)

    async def bind_principal(self, principal: Principal) -> None:
        """Re-bind an already authenticated principal in a new transaction (background work that
        outlives its request, such as a streamed answer). Nothing is widened: the same user and
        the same workspaces the request had."""
        await self.session.execute(
            select(
                func.set_config("app.user_id", str(principal.user_id), True),
                func.set_config(
                    "app.workspace_ids", ",".join(str(ws) for ws in principal.roles), True
                ),
                func.set_config("app.is_staff", "off", True),
            )
        )

    async def bind_worker_scope(
        self, workspace_id: uuid.UUID, *, user_id: uuid.UUID | None = None
    ) -> None:
        """Scope a worker transaction to exactly one workspace (the job's own).

        Background jobs act for no user: they see one tenant's rows, the one the job row names,
        and nothing else, so a job bug cannot reach across workspaces either. A job about rows
        private to one user (a conversation's messages) also names that user, the one its job
        row names, and sees only that user's private rows.
        """
        await self.session.execute(
            select(
                func.set_config("app.user_id", "" if user_id is None else str(user_id), True),
                func.set_config("app.workspace_ids", str(workspace_id), True),
                func.set_config("app.is_staff", "off", True),
            )
        )

    async def extend_workspace_context(
        self, current: Sequence[uuid.UUID], workspace_id: uuid.UUID
    ) -> None:
        """Add one workspace to this transaction's context (after a service checked why)."""
        value = ",".join(str(ws) for ws in (*current, workspace_id))
        await self.session.execute(select(func.set_config("app.workspace_ids", value, True)))

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
