"""Row-level security, proved in the database with the app role's own connection (C2, rule 14).

Each test opens an ``AsyncSession`` on the app-role URL (``launchproof_app``: not superuser, no
BYPASSRLS, owns nothing), binds the principal context exactly as the app does
(``app.identity.credentials.principal_from_session`` → ``PrincipalContextRepository``), runs
statements *without* any tenant filter, and rolls the transaction back. The superuser connection
only seeds two tenants and judges that foreign rows really exist.

The headline: a repository query with its filter removed still returns no foreign rows.
"""

from __future__ import annotations

import uuid
from asyncio import run
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import make_url

import app.models  # noqa: F401 - registers every mapped class
from app.audit.models import AuditEvent
from app.core.models import Base
from app.health.repository import DatabaseProbe
from tests.rls_world import (
    PERMISSION_DENIED,
    SEEDED_MODELS,
    TENANT_MODELS,
    World,
    app_session,
    bind_principal,
    refused,
    table_name,
    tenant_column,
    visible_ids,
    world,
)
from tests.support import Database

pytestmark = pytest.mark.checklist(
    "C2",
    red="drop a tenant table's tenant_isolation policy or its FORCE ROW LEVEL SECURITY "
    "(migrations), or give the app role ownership or BYPASSRLS",
)

# The seeded world, imported: a module-scoped fixture of tests/rls_world.py.
FIXTURES = (world,)


# Tables with no RLS on purpose: platform rows read before any principal exists (authentication)
# or only by the worker. A new table must be a TenantMixin table or be argued for here.
PLATFORM_TABLES = {
    "user_account",
    "user_session",
    # Second factors belong to one person, like sessions (app/auth/mfa/models.py).
    "totp_factor",
    "recovery_code",
    "login_challenge",
    "passkey",
    "passkey_ceremony",
    "one_time_token",
    "email_outbox",
    # Files: the scan queue holds ids only (file, workspace, attempts); the worker claims across
    # workspaces before binding each job's one workspace (app/files/jobs.py).
    "file_scan_job",
    # Webhooks: the delivery queue holds ids and times only (delivery, workspace, due, lease);
    # the worker claims across workspaces, then binds the delivery's one workspace before it
    # reads the tenant rows (app/webhooks/jobs.py). The inbound event store is written before
    # any principal or workspace exists (a signature-verified call from a configured source).
    "webhook_queue",
    "inbound_webhook_event",
    # Chat: streaming turns' leases hold ids and times only (message, workspace, owner, expiry,
    # counters); the worker claims expired ones across workspaces, then binds the row's
    # workspace and owner before it ends the turn (app/chat/jobs.py).
    "turn_lease",
}
# Carries a nullable workspace_id but is not tenant data: the append-only, staff-read audit log.
NOT_TENANT_BUT_HAS_WORKSPACE_ID = {
    "audit_event",
    "webhook_queue",  # ids only: the workspace the worker binds before reading the delivery
    "file_scan_job",  # files: ids only, the workspace the worker binds before reading the file
    "turn_lease",  # chat: ids only, the workspace the worker binds before ending the turn
}


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
