"""C2, layer two on its own: row-level security with every application filter out of the way.

Both tenants have rows in every tenant table (tests/isolation/seed.py). For each table, as the
app role (no BYPASSRLS, owns nothing), with tenant A's context bound exactly as a request binds
it (``principal_from_session``), statements with *no* tenant filter at all (SELECT, UPDATE,
DELETE) see and touch A's rows and nothing of B's, and nothing of A's other user where the table
is private to its user. The superuser judge first asserts that the foreign rows exist, so
"nothing visible" can never mean "nothing there". tests/test_rls.py covers the rest of the RLS
contract (catalog, credential capabilities, context lifetime) and is not repeated here.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.db import async_url
from app.core.models import Base
from app.identity.credentials import principal_from_session
from tests.isolation.seed import (
    SETTINGS,
    TENANT_MODELS,
    Person,
    Tenant,
    World,
    private_to_user,
    seed_world,
    table_of,
    tenant_column,
)
from tests.support import Database

RED = "drop the tenant_isolation policy of any tenant table, or NO FORCE its RLS (owner role)"


@pytest.fixture(scope="module")
def world(db: Database) -> World:
    return seed_world(db)


def _key(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


def judged(db: Database, model: type[Base], tenant: Tenant, viewer: Person | None) -> set[Any]:
    """Primary keys of ``tenant``'s rows (as the superuser), narrowed to ``viewer``'s own rows
    where the table is private to its user: exactly what ``viewer`` may see of ``tenant``."""
    table = table_of(model)
    names = [c.name for c in _key(table)]
    sql = f"SELECT {', '.join(names)} FROM {table.name} WHERE {tenant_column(model)} = %s"  # noqa: S608
    params: list[Any] = [tenant.workspace_id]
    if viewer is not None and private_to_user(model):
        sql += " AND user_id = %s"
        params.append(viewer.user_id)
    return set(db.rows(sql, *params))


@asynccontextmanager
async def bound_as(db: Database, person: Person | None) -> AsyncIterator[AsyncSession]:
    """An app-role transaction (always rolled back) bound to ``person`` the way requests are."""
    engine = create_async_engine(async_url(db.app), poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False, autoflush=False) as session:
            try:
                if person is not None:
                    principal = await principal_from_session(
                        session, SETTINGS, person.session_token
                    )
                    assert principal is not None
                yield session
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


def _viewers(world: World) -> list[tuple[Person, Tenant, Tenant]]:
    return [(world.a.member, world.a, world.b), (world.b.owner, world.b, world.a)]


@pytest.mark.checklist("C2", red=RED)
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model.__name__)
def test_unfiltered_statements_reach_only_the_callers_rows(
    db: Database, world: World, model: type[Base]
) -> None:
    table = table_of(model)
    keys, tenant_col = _key(table), table.c[tenant_column(model)]
    for viewer, own, other in _viewers(world):
        foreign = judged(db, model, other, None)
        assert foreign, f"{table.name}: the judge sees no foreign rows to hide"
        mine = judged(db, model, own, viewer)
        assert mine, f"{table.name}: the caller has no rows of its own (the control is empty)"
        if private_to_user(model):
            # The other user of the caller's own workspace: private rows are foreign too.
            foreign |= judged(db, model, own, None) - mine
            assert foreign - judged(db, model, other, None), f"{table.name}: no insider row"

        async def scenario(viewer: Person = viewer, mine: set[Any] = mine) -> None:
            async with bound_as(db, viewer) as session:
                seen = {tuple(r) for r in (await session.execute(select(*keys))).all()}
                assert seen == mine, f"{table.name}: SELECT without a filter"
                count = await session.scalar(select(func.count()).select_from(table))
                assert count == len(mine), f"{table.name}: count(*) without a filter"
                # UPDATE and DELETE with no WHERE at all reach exactly the caller's rows.
                touched = await session.execute(
                    update(table).values({tenant_col: tenant_col}).returning(*keys)
                )
                assert {tuple(r) for r in touched.all()} == mine, f"{table.name}: UPDATE"
                async with session.begin_nested() as savepoint:
                    gone = await session.execute(delete(table).returning(*keys))
                    assert {tuple(r) for r in gone.all()} == mine, f"{table.name}: DELETE"
                    await savepoint.rollback()

        asyncio.run(scenario())


@pytest.mark.checklist("C2", red=RED)
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model.__name__)
def test_statements_aimed_at_foreign_rows_touch_nothing(
    db: Database, world: World, model: type[Base]
) -> None:
    """Naming the foreign workspace outright (the filter an attacker would write): 0 rows."""
    table = table_of(model)
    tenant_col = table.c[tenant_column(model)]
    foreign_ws = world.b.workspace_id
    before = judged(db, model, world.b, None)
    assert before, f"{table.name}: nothing foreign to aim at"

    async def scenario() -> None:
        async with bound_as(db, world.a.owner) as session:
            aimed = tenant_col == foreign_ws
            found = await session.scalar(select(func.count()).select_from(table).where(aimed))
            assert found == 0, f"{table.name}: SELECT of B's rows"
            moved = await session.execute(
                update(table).where(aimed).values({tenant_col: foreign_ws})
            )
            assert getattr(moved, "rowcount", None) == 0, f"{table.name}: UPDATE of B's rows"
            removed = await session.execute(delete(table).where(aimed))
            assert getattr(removed, "rowcount", None) == 0, f"{table.name}: DELETE of B's rows"
            await session.commit()  # committed: the judge below sees what really happened

    asyncio.run(scenario())
    assert judged(db, model, world.b, None) == before


@pytest.mark.checklist("C2", red=RED)
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda model: model.__name__)
def test_no_context_reaches_no_row(db: Database, world: World, model: type[Base]) -> None:
    """Before any principal is bound (a bug that skips binding), every tenant table is empty."""
    table = table_of(model)
    assert judged(db, model, world.a, None)
    assert judged(db, model, world.b, None)

    async def scenario() -> None:
        async with bound_as(db, None) as session:
            assert await session.scalar(select(func.count()).select_from(table)) == 0
            col = table.c[tenant_column(model)]
            touched = await session.execute(update(table).values({col: col}))
            assert getattr(touched, "rowcount", None) == 0

    asyncio.run(scenario())


@pytest.mark.checklist(
    "C2", red="add a TenantMixin model without seeding it in tests/isolation/seed.py"
)
def test_every_tenant_table_is_seeded_for_both_tenants(db: Database, world: World) -> None:
    """The guard behind the parametrization: a new TenantMixin table joins the tests above by
    itself, and the seed fails until it writes that table's rows for both tenants."""
    assert {table_of(m).name for m in TENANT_MODELS} >= {
        *("message", "conversation", "tool_call", "note", "file", "message_file"),
        *("webhook_endpoint", "webhook_delivery", "webhook_delivery_attempt"),
        *("invitation", "api_key", "workspace", "workspace_membership", "bot"),
        *("workspace_usage", "usage_reservation"),
    }
    for model in TENANT_MODELS:
        assert judged(db, model, world.a, None), table_of(model).name
        assert judged(db, model, world.b, None), table_of(model).name
