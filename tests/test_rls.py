"""Row-level security, proved in the database with the app role's own connection (C2, rule 14).

Each test opens an ``AsyncSession`` on the app-role URL (``launchproof_app``: not superuser, no
BYPASSRLS, owns nothing), binds the principal context exactly as the app does
(``app.auth.credentials.principal_from_session`` → ``PrincipalContextRepository``), runs
statements *without* any tenant filter, and rolls the transaction back. The superuser connection
only seeds two tenants and judges that foreign rows really exist.

The headline: a repository query with its filter removed still returns no foreign rows.
"""

from __future__ import annotations

import secrets
import uuid
from asyncio import run
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import delete, func, insert, literal, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import Executable

import app.models  # noqa: F401 - registers every mapped class
from app.api_keys.models import ApiKey
from app.audit.models import AuditEvent
from app.auth.credentials import (
    API_KEY_PURPOSE,
    SESSION_PURPOSE,
    principal_from_api_key,
    principal_from_session,
)
from app.auth.principal import Principal
from app.auth.repository import PrincipalContextRepository
from app.core.config import Settings
from app.core.db import async_url, create_engine
from app.core.models import Base, TenantMixin
from app.core.security import token_hash
from app.health.repository import DatabaseProbe
from app.invitations.models import Invitation
from app.invitations.repository import InvitationRepository
from app.workspaces.models import Workspace, WorkspaceMembership
from app.workspaces.permissions import Role
from tests.support import Database

pytestmark = pytest.mark.checklist(
    "C2",
    red="drop a tenant table's tenant_isolation policy or its FORCE ROW LEVEL SECURITY "
    "(migrations), or give the app role ownership or BYPASSRLS",
)


SECRET = secrets.token_hex(32)
SETTINGS = Settings(secret_key=SecretStr(SECRET))
RLS_VIOLATION = "new row violates row-level security policy"
PERMISSION_DENIED = "permission denied"

MAPPED: list[type[Base]] = [mapper.class_ for mapper in Base.registry.mappers]
TENANT_MODELS = sorted(
    (model for model in MAPPED if issubclass(model, TenantMixin)), key=lambda m: m.__name__
)
SEEDED_MODELS: tuple[type[Base], ...] = (Workspace, WorkspaceMembership, Invitation, ApiKey)
# Tables with no RLS on purpose: platform rows read before any principal exists (authentication)
# or only by the worker. A new table must be a TenantMixin table or be argued for here.
PLATFORM_TABLES = {
    "user_account",
    "user_session",
    # Second factors belong to one person, like sessions (app/auth/mfa/models.py).
    "totp_factor",
    "recovery_code",
    "login_challenge",
    "one_time_token",
    "email_outbox",
    # Files: the scan queue holds ids only (file, workspace, attempts); the worker claims across
    # workspaces before binding each job's one workspace (app/files/jobs.py).
    "file_scan_job",
    # Webhooks: the delivery queue holds ids and times only (delivery, workspace, due, lease);
    # the worker claims across workspaces, then binds the delivery's one workspace before it
    # reads the tenant rows (app/webhooks/tasks.py). The inbound event store is written before
    # any principal or workspace exists (a signature-verified call from a configured source).
    "webhook_queue",
    "inbound_webhook_event",
    # Chat: streaming turns' leases hold ids and times only (message, workspace, owner, expiry,
    # counters); the worker claims expired ones across workspaces, then binds the row's
    # workspace and owner before it ends the turn (app/chat/tasks.py).
    "turn_lease",
}
# Carries a nullable workspace_id but is not tenant data: the append-only, staff-read audit log.
NOT_TENANT_BUT_HAS_WORKSPACE_ID = {
    "audit_event",
    "webhook_queue",  # ids only: the workspace the worker binds before reading the delivery
    "file_scan_job",  # files: ids only, the workspace the worker binds before reading the file
    "turn_lease",  # chat: ids only, the workspace the worker binds before ending the turn
}


def tenant_column(model: type[Base]) -> str:
    return str(getattr(model, "__tenant_column__", "workspace_id"))


def table_name(model: type[Base]) -> str:
    return str(model.__table__.name)  # type: ignore[attr-defined]


# --- Seed data (superuser, committed; random ids keep it apart from every other test) ----------


@dataclass(frozen=True)
class Tenant:
    user_id: uuid.UUID
    session_token: str
    workspace_ids: tuple[uuid.UUID, ...]
    membership_ids: tuple[uuid.UUID, ...]
    invitation_ids: tuple[uuid.UUID, ...]
    invitation_hashes: tuple[bytes, ...]
    api_key_ids: tuple[uuid.UUID, ...]
    api_key_hashes: tuple[bytes, ...]

    def expected_ids(self, model: type[Base]) -> set[uuid.UUID]:
        return set(
            {
                Workspace: self.workspace_ids,
                WorkspaceMembership: self.membership_ids,
                Invitation: self.invitation_ids,
                ApiKey: self.api_key_ids,
            }[model]
        )


@dataclass(frozen=True)
class World:
    a: Tenant
    b: Tenant
    staff: Tenant
    audit_event_id: uuid.UUID


def _seed_tenant(db: Database, label: str, workspaces: int, *, staff: bool = False) -> Tenant:
    now = datetime.now(UTC)
    user_id = uuid.uuid4()
    token = secrets.token_urlsafe(32)
    ws_ids: list[uuid.UUID] = []
    member_ids: list[uuid.UUID] = []
    inv_ids: list[uuid.UUID] = []
    key_ids: list[uuid.UUID] = []
    inv_hashes: list[bytes] = []
    key_hashes: list[bytes] = []
    with db.connect() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO user_account (id, email, password_hash, is_staff, email_verified_at)"
            " VALUES (%s, %s, 'not-a-hash', %s, %s)",
            (user_id, f"rls-{label}-{user_id.hex[:12]}@example.com", staff, now),
        )
        conn.execute(
            "INSERT INTO user_session (id, user_id, token_hash, last_seen_at, idle_expires_at,"
            " absolute_expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                uuid.uuid4(),
                user_id,
                token_hash(SECRET.encode(), SESSION_PURPOSE, token),
                now,
                now + timedelta(hours=1),
                now + timedelta(days=1),
            ),
        )
        for index in range(workspaces):
            ws, member, inv, key = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            inv_hash, key_hash = secrets.token_bytes(32), secrets.token_bytes(32)
            conn.execute(
                "INSERT INTO workspace (id, name) VALUES (%s, %s)", (ws, f"{label} {index}")
            )
            conn.execute(
                "INSERT INTO workspace_membership (id, workspace_id, user_id, role)"
                " VALUES (%s, %s, %s, 'owner'::workspace_role)",
                (member, ws, user_id),
            )
            conn.execute(
                "INSERT INTO invitation (id, workspace_id, email, role, token_hash,"
                " invited_by_id, expires_at) VALUES (%s, %s, %s, 'member'::workspace_role,"
                " %s, %s, %s)",
                (
                    inv,
                    ws,
                    f"invitee-{inv.hex[:12]}@example.com",
                    inv_hash,
                    user_id,
                    now + timedelta(days=1),
                ),
            )
            conn.execute(
                "INSERT INTO api_key (id, workspace_id, created_by_id, name, prefix, key_hash,"
                " scopes) VALUES (%s, %s, %s, %s, 'lpk_test', %s, ARRAY['workspace:read'])",
                (key, ws, user_id, f"{label} key", key_hash),
            )
            ws_ids.append(ws)
            member_ids.append(member)
            inv_ids.append(inv)
            inv_hashes.append(inv_hash)
            key_ids.append(key)
            key_hashes.append(key_hash)
    return Tenant(
        user_id=user_id,
        session_token=token,
        workspace_ids=tuple(ws_ids),
        membership_ids=tuple(member_ids),
        invitation_ids=tuple(inv_ids),
        invitation_hashes=tuple(inv_hashes),
        api_key_ids=tuple(key_ids),
        api_key_hashes=tuple(key_hashes),
    )


@pytest.fixture(scope="module")
def world(db: Database) -> World:
    """Tenant A (two workspaces), tenant B (one) and a staff user, each with every tenant row."""
    audit_id = uuid.uuid4()
    db.scalar(
        "INSERT INTO audit_event (id, action, outcome, details) "
        "VALUES (%s, 'test.rls_seed', 'success', '{}') RETURNING id",
        audit_id,
    )
    return World(
        a=_seed_tenant(db, "a", 2),
        b=_seed_tenant(db, "b", 1),
        staff=_seed_tenant(db, "staff", 0, staff=True),
        audit_event_id=audit_id,
    )


# --- App-role sessions ----------------------------------------------------------------------


@asynccontextmanager
async def app_session(db: Database) -> AsyncIterator[AsyncSession]:
    """An app-role session in one transaction that is always rolled back."""
    engine: AsyncEngine = create_async_engine(async_url(db.app), poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as session:
            try:
                yield session
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


async def bind_principal(session: AsyncSession, tenant: Tenant) -> Principal:
    """Authenticate and bind the RLS context the way every request does."""
    principal = await principal_from_session(session, SETTINGS, tenant.session_token)
    assert principal is not None
    assert set(principal.roles) == set(tenant.workspace_ids)
    return principal


async def visible_ids(session: AsyncSession, model: type[Base]) -> set[uuid.UUID]:
    """Every row of ``model`` this transaction can see: no WHERE clause at all."""
    rows = (await session.scalars(select(model))).all()
    return {row.id for row in rows}  # type: ignore[attr-defined]


async def refused(session: AsyncSession, statement: Executable | str, message: str) -> None:
    """``statement`` fails with ``message``; the savepoint keeps the transaction usable."""
    if isinstance(statement, str):
        statement = text(statement)
    with pytest.raises(DBAPIError, match=message):
        async with session.begin_nested():
            await session.execute(statement)


async def setting(session: AsyncSession, name: str) -> str | None:
    value = (await session.execute(select(func.current_setting(name, True)))).scalar_one()
    return None if value is None else str(value)


async def set_credential(session: AsyncSession, credential_hash: bytes) -> None:
    await session.execute(
        select(func.set_config("app.credential_hash", credential_hash.hex(), True))
    )


# --- The headline ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model.__name__)
def test_unfiltered_query_returns_no_foreign_rows(
    db: Database, world: World, model: type[Base]
) -> None:
    """A repository query with its filter removed still returns only the caller's rows."""
    table, column = table_name(model), tenant_column(model)
    foreign = db.scalar(
        f"SELECT count(*) FROM {table} WHERE NOT ({column} = ANY (%s))",  # noqa: S608
        list(world.a.workspace_ids),
    )
    assert model not in SEEDED_MODELS or foreign > 0, "the judge sees no foreign rows to hide"

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, world.a)
            rows: list[Any] = list((await session.scalars(select(model))).all())
            tenants = {getattr(row, column) for row in rows}
            assert tenants <= set(world.a.workspace_ids), f"{table}: foreign rows leaked"
            if model in SEEDED_MODELS:
                assert {row.id for row in rows} == world.a.expected_ids(model)

    run(scenario())


def test_each_tenant_sees_only_itself(db: Database, world: World) -> None:
    """The same unfiltered statements, as B: B's rows only, none of A's."""

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, world.b)
            for model in SEEDED_MODELS:
                assert await visible_ids(session, model) == world.b.expected_ids(model)

    run(scenario())


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model.__name__)
def test_no_context_sees_zero_rows(db: Database, world: World, model: type[Base]) -> None:
    if model in SEEDED_MODELS:
        assert db.scalar(f"SELECT count(*) FROM {table_name(model)}") > 0  # noqa: S608

    async def scenario() -> None:
        async with app_session(db) as session:
            count = (await session.execute(select(func.count()).select_from(model))).scalar_one()
            assert count == 0

    run(scenario())


def test_audit_log_is_readable_by_staff_only(db: Database, world: World) -> None:
    async def scenario() -> None:
        async with app_session(db) as session:
            assert await visible_ids(session, AuditEvent) == set()
            await bind_principal(session, world.a)  # a workspace owner is not staff
            assert await visible_ids(session, AuditEvent) == set()
        async with app_session(db) as session:
            principal = await bind_principal(session, world.staff)
            assert principal.is_staff
            assert world.audit_event_id in await visible_ids(session, AuditEvent)

    run(scenario())


def test_audit_log_is_append_only_and_alembic_version_is_out_of_reach(
    db: Database, world: World
) -> None:
    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, world.staff)
            # The app writes audit events (without reading them back) ...
            await session.execute(
                insert(AuditEvent).values(
                    id=uuid.uuid4(), action="test.append", outcome="success", details={}
                )
            )
            # ... and can never rewrite or erase them, not even as staff.
            target = AuditEvent.id == world.audit_event_id
            await refused(
                session, update(AuditEvent).where(target).values(action="x"), PERMISSION_DENIED
            )
            await refused(session, delete(AuditEvent).where(target), PERMISSION_DENIED)
            await refused(session, "TRUNCATE audit_event", PERMISSION_DENIED)
            for statement in (
                "SELECT * FROM alembic_version",
                "UPDATE alembic_version SET version_num = 'x'",
                "DELETE FROM alembic_version",
                "INSERT INTO alembic_version VALUES ('x')",
            ):
                await refused(session, statement, PERMISSION_DENIED)

    run(scenario())


def test_app_role_cannot_switch_rls_off(db: Database, world: World) -> None:
    """Owner-only escapes: the app role can neither drop the policies nor become the owner."""
    owner = make_url(db.migration).username

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, world.a)
            for model in SEEDED_MODELS:
                table = table_name(model)
                # TRUNCATE ignores RLS, so the app role must not hold it.
                await refused(session, f"TRUNCATE {table}", PERMISSION_DENIED)
                await refused(
                    session, f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY", "must be owner"
                )
                await refused(session, f"DROP POLICY tenant_isolation ON {table}", "must be owner")
            await refused(session, f'SET ROLE "{owner}"', PERMISSION_DENIED)
            await refused(session, "CREATE TABLE lp_probe (id int)", PERMISSION_DENIED)

    run(scenario())


# --- Writes ---------------------------------------------------------------------------------


def test_writes_into_a_foreign_workspace_are_refused(db: Database, world: World) -> None:
    a, b = world.a, world.b
    foreign = b.workspace_ids[0]
    now = datetime.now(UTC)

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, a)
            # Joining B's workspace by writing one's own membership row.
            await refused(
                session,
                insert(WorkspaceMembership).values(
                    id=uuid.uuid4(), workspace_id=foreign, user_id=a.user_id, role=Role.OWNER
                ),
                RLS_VIOLATION,
            )
            await refused(
                session,
                insert(ApiKey).values(
                    id=uuid.uuid4(),
                    workspace_id=foreign,
                    created_by_id=a.user_id,
                    name="planted",
                    prefix="lpk_x",
                    key_hash=secrets.token_bytes(32),
                    scopes=["workspace:read"],
                ),
                RLS_VIOLATION,
            )
            await refused(
                session,
                insert(Invitation).values(
                    id=uuid.uuid4(),
                    workspace_id=foreign,
                    email="planted@example.com",
                    role=Role.OWNER,
                    token_hash=secrets.token_bytes(32),
                    expires_at=now + timedelta(days=1),
                ),
                RLS_VIOLATION,
            )
            # A workspace the context does not name cannot be created either.
            await refused(
                session, insert(Workspace).values(id=uuid.uuid4(), name="rogue"), RLS_VIOLATION
            )

    run(scenario())


def test_moving_a_row_to_another_workspace_is_refused(db: Database, world: World) -> None:
    a, foreign = world.a, world.b.workspace_ids[0]

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, a)
            for model, row_id in (
                (ApiKey, a.api_key_ids[0]),
                (Invitation, a.invitation_ids[0]),
                (WorkspaceMembership, a.membership_ids[0]),
            ):
                column: Any = model.workspace_id
                key: Any = model.id
                await refused(
                    session,
                    update(model).where(key == row_id).values({column: foreign}),
                    RLS_VIOLATION,
                )
            # Between A's own workspaces the same move is allowed: the policy, not a typo, refused.
            moved = await session.execute(
                update(ApiKey)
                .where(ApiKey.id == a.api_key_ids[0])
                .values(workspace_id=a.workspace_ids[1])
            )
            assert getattr(moved, "rowcount", None) == 1

    run(scenario())


def test_foreign_rows_cannot_be_updated_or_deleted(db: Database, world: World) -> None:
    b = world.b

    async def scenario() -> None:
        async with app_session(db) as session:
            await bind_principal(session, world.a)
            statements: list[Executable] = [
                update(Workspace).where(Workspace.id == b.workspace_ids[0]).values(name="owned"),
                update(ApiKey).where(ApiKey.id == b.api_key_ids[0]).values(revoked_at=func.now()),
                update(WorkspaceMembership)
                .where(WorkspaceMembership.id == b.membership_ids[0])
                .values(user_id=world.a.user_id),
                delete(Invitation).where(Invitation.id == b.invitation_ids[0]),
                delete(Workspace).where(Workspace.id == b.workspace_ids[0]),
            ]
            for statement in statements:
                result = await session.execute(statement)
                assert getattr(result, "rowcount", None) == 0, str(statement)

    run(scenario())
    assert db.scalar("SELECT name FROM workspace WHERE id = %s", b.workspace_ids[0]) == "b 0"


# --- Credential capability ------------------------------------------------------------------


def test_credential_hash_reveals_exactly_its_own_row(db: Database, world: World) -> None:
    b = world.b

    async def scenario() -> None:
        async with app_session(db) as session:
            await set_credential(session, b.api_key_hashes[0])
            assert await visible_ids(session, ApiKey) == {b.api_key_ids[0]}
            assert await visible_ids(session, Invitation) == set()
            assert await visible_ids(session, Workspace) == set()
            # Seeing is not owning: the capability is read-only.
            result = await session.execute(
                update(ApiKey).where(ApiKey.id == b.api_key_ids[0]).values(name="hijacked")
            )
            assert getattr(result, "rowcount", None) == 0

            await set_credential(session, b.invitation_hashes[0])
            assert await visible_ids(session, Invitation) == {b.invitation_ids[0]}
            assert await visible_ids(session, ApiKey) == set()

            await set_credential(session, secrets.token_bytes(32))
            assert await visible_ids(session, ApiKey) == set()
            assert await visible_ids(session, Invitation) == set()

    run(scenario())


def test_credential_lookups_find_their_row_and_clear_the_capability(
    db: Database, world: World
) -> None:
    b = world.b
    now = datetime.now(UTC)

    async def scenario() -> None:
        async with app_session(db) as session:
            found = await PrincipalContextRepository(session).api_key_with_user(
                b.api_key_hashes[0], now
            )
            assert found is not None
            assert found[0].id == b.api_key_ids[0]
            assert await setting(session, "app.credential_hash") == ""
            assert await visible_ids(session, ApiKey) == set()

            invitation = await InvitationRepository(session).get_by_token_hash(
                b.invitation_hashes[0], now
            )
            assert invitation is not None
            assert invitation.id == b.invitation_ids[0]
            assert await setting(session, "app.credential_hash") == ""
            assert await visible_ids(session, Invitation) == set()

            unknown = await PrincipalContextRepository(session).api_key_with_user(
                secrets.token_bytes(32), now
            )
            assert unknown is None

    run(scenario())


# --- Catalog --------------------------------------------------------------------------------


def test_every_tenant_table_has_forced_rls_and_an_isolation_policy(db: Database) -> None:
    assert {table_name(m) for m in SEEDED_MODELS} <= {table_name(m) for m in TENANT_MODELS}
    for model in TENANT_MODELS:
        table, column = table_name(model), tenant_column(model)
        row = db.rows(
            "SELECT c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = %s",
            table,
        )
        assert row == [(True, True)], f"{table}: RLS must be enabled and forced"
        policies = db.rows(
            "SELECT policyname, permissive, cmd, qual, with_check FROM pg_policies "
            "WHERE schemaname = 'public' AND tablename = %s",
            table,
        )
        assert policies, f"{table}: no policy"
        isolation = f"({column} = ANY (app_workspace_ids()))"
        if getattr(model, "__private_to_user__", False):
            # Private to one user on top of the workspace (conversations, messages).
            isolation = f"(({column} = ANY (app_workspace_ids())) AND (user_id = app_user_id()))"
        assert any(
            cmd == "ALL" and permissive == "PERMISSIVE" and qual == isolation == check
            for _, permissive, cmd, qual, check in policies
        ), f"{table}: no tenant_isolation policy on {column} with the same WITH CHECK"
        # Any other permissive policy may widen reads only: writes stay gated by isolation.
        for name, permissive, cmd, qual, _ in policies:
            if qual != isolation:
                assert cmd == "SELECT" or permissive == "RESTRICTIVE", f"{table}.{name}: {cmd}"


def test_every_table_is_either_tenant_scoped_or_declared_platform(db: Database) -> None:
    """Nobody has to guess which data belongs to which workspace."""
    tenant = {table_name(m) for m in TENANT_MODELS}
    tables = set(Base.metadata.tables)
    assert tables - tenant == PLATFORM_TABLES | NOT_TENANT_BUT_HAS_WORKSPACE_ID, (
        "a new table is neither a TenantMixin model nor declared a platform table here"
    )
    for name, table in Base.metadata.tables.items():
        if "workspace_id" in table.columns:
            assert name in tenant | NOT_TENANT_BUT_HAS_WORKSPACE_ID, f"{name} needs TenantMixin"
    unprotected = {
        name
        for (name,) in db.rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relforcerowsecurity"
        )
    }
    assert unprotected == PLATFORM_TABLES | {"alembic_version"}


def test_app_role_is_unprivileged_and_owns_nothing(db: Database) -> None:
    app_role = make_url(db.app).username
    rows = db.rows(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles "
        "WHERE rolname = %s",
        app_role,
    )
    assert rows == [(False, False, False, False)]
    owned = db.rows(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = %s",
        app_role,
    )
    assert owned == []
    # Membership in another role (the owner, say) would let it SET ROLE around RLS.
    memberships = db.rows(
        "SELECT m.roleid::regrole::text FROM pg_auth_members m "
        "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s",
        app_role,
    )
    assert memberships == []

    async def scenario() -> None:
        async with app_session(db) as session:
            assert await DatabaseProbe(session).role_problems() == []

    run(scenario())


# --- Transaction-local context --------------------------------------------------------------

CONTEXT_SETTINGS = (
    "app.user_id",
    "app.membership_probe",
    "app.workspace_ids",
    "app.is_staff",
    "app.credential_hash",
)


@pytest.mark.parametrize("end", ["commit", "rollback"])
def test_context_does_not_survive_the_transaction(db: Database, world: World, end: str) -> None:
    """On the app's own pooled engine, the next transaction on the same connection sees nothing."""

    async def scenario() -> None:
        engine = create_engine(Settings(database_url=SecretStr(db.app), database_pool_size=1))
        try:
            async with AsyncSession(engine) as session:
                await bind_principal(session, world.a)
                await set_credential(session, world.b.api_key_hashes[0])
                pid = (await session.execute(select(func.pg_backend_pid()))).scalar_one()
                assert await setting(session, "app.workspace_ids")
                await (session.commit() if end == "commit" else session.rollback())
            async with AsyncSession(engine) as session:
                same = (await session.execute(select(func.pg_backend_pid()))).scalar_one()
                assert same == pid, "the pool handed out another connection"
                for name in CONTEXT_SETTINGS:
                    assert await setting(session, name) in (None, ""), name
                for model in SEEDED_MODELS:
                    assert await visible_ids(session, model) == set()
                await session.rollback()
        finally:
            await engine.dispose()

    run(scenario())


def test_session_lookup_binds_nothing_for_an_unknown_token(db: Database, world: World) -> None:
    async def scenario() -> None:
        async with app_session(db) as session:
            assert await principal_from_session(session, SETTINGS, "not-a-session") is None
            for name in CONTEXT_SETTINGS:
                assert await setting(session, name) in (None, ""), name
            assert (await session.execute(select(literal(1)))).scalar_one() == 1

    run(scenario())


def test_api_key_transaction_sees_only_its_own_workspace(db: Database, world: World) -> None:
    """A key of a creator with two workspaces: the database shows the key one, not both.

    The membership self policy (``user_id = app_membership_probe()``) lets authentication read
    the creator's membership; the binding statement clears the probe, so the creator's other
    memberships stay invisible for the rest of the transaction.
    """
    key = "lpk_" + secrets.token_urlsafe(32)
    key_workspace = world.a.workspace_ids[0]
    with db.connect() as conn:
        conn.execute(
            "INSERT INTO api_key (id, workspace_id, created_by_id, name, prefix, key_hash, scopes)"
            " VALUES (%s, %s, %s, 'rls key', 'lpk_rls', %s, ARRAY['workspace:read'])",
            (
                uuid.uuid4(),
                key_workspace,
                world.a.user_id,
                token_hash(SECRET.encode(), API_KEY_PURPOSE, key),
            ),
        )

    async def scenario() -> None:
        async with app_session(db) as session:
            principal = await principal_from_api_key(session, SETTINGS, key)
            assert principal is not None
            assert set(principal.roles) == {key_workspace}
            assert await visible_ids(session, Workspace) == {key_workspace}
            memberships = (await session.scalars(select(WorkspaceMembership))).all()
            assert {m.workspace_id for m in memberships} == {key_workspace}
            assert await setting(session, "app.membership_probe") in ("", None)
            assert await setting(session, "app.user_id") == str(world.a.user_id)

    run(scenario())
