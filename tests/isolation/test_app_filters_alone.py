"""C2, layer one on its own: the repositories' filters with row-level security switched off.

The database under these tests (``rls_off_db``, tests/isolation/conftest.py) has RLS disabled on
every table, and both tenants have rows in every tenant table. Every public method of every
repository over a tenant table is called with tenant A's caller (and B's ids wherever an id is
an argument): nothing of B comes back, and no foreign row is changed. Without this, deleting a
repository filter stays green because RLS still hides the rows (ADR 0004, its first layer).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.db import async_url
from app.identity.credentials import principal_from_session
from app.workspaces.access import AccessibleWorkspaceID
from tests.isolation.app_filters import (
    EXEMPT,
    Ctx,
    all_probes,
    foreign_rows,
    public_methods,
    tenant_repositories,
)
from tests.isolation.seed import SETTINGS, World
from tests.support import Database

PROBES = all_probes()
RED = (
    "delete a tenant filter from any repository method (e.g. Conversation.user_id == "
    "principal.user_id in ConversationRepository.readable_statement)"
)


async def _run(db: Database, world: World, name: str) -> None:
    probe, _ = PROBES[name]
    engine = create_async_engine(async_url(db.app), poolclass=NullPool)
    try:
        async with AsyncSession(engine, expire_on_commit=False, autoflush=True) as session:
            try:
                member = await principal_from_session(
                    session, SETTINGS, world.a.member.session_token
                )
                owner = await principal_from_session(session, SETTINGS, world.a.owner.session_token)
                assert member is not None
                assert owner is not None
                ctx = Ctx(
                    session=session, a=world.a, b=world.b, member=member, owner=owner,
                    ws=AccessibleWorkspaceID(world.a.workspace_id),
                    left_behind=world.left_behind,
                )  # fmt: skip
                before = await foreign_rows(ctx)
                assert all(before.values()), "a foreign table is empty: nothing to protect"
                await probe(ctx)
                await session.flush()
                after = await foreign_rows(ctx)
                changed = sorted(name for name in before if before[name] != after[name])
                assert not changed, f"foreign rows changed in {changed}"
            finally:
                await session.rollback()
    finally:
        await engine.dispose()


@pytest.mark.checklist("C2", red=RED)
@pytest.mark.parametrize("name", sorted(PROBES))
def test_repository_returns_and_touches_nothing_foreign(
    rls_off_db: Database, rls_off_world: World, name: str
) -> None:
    asyncio.run(_run(rls_off_db, rls_off_world, name))


@pytest.mark.checklist("C2", red="add a public method to a tenant repository without a probe")
def test_every_tenant_repository_method_is_probed_or_exempt() -> None:
    covered = {method for _, methods in PROBES.values() for method in methods}
    public = public_methods()
    assert len(tenant_repositories()) >= 16
    missing = public - covered - set(EXEMPT)
    assert not missing, f"no probe calls {sorted(missing)}: add one to tests/isolation/probes_*"
    stale = (covered | set(EXEMPT)) - public
    assert not stale, f"probes or exemptions name methods that no longer exist: {sorted(stale)}"
    assert not covered & set(EXEMPT), "a method is both probed and exempt"


def test_rls_is_really_off_in_the_scratch_database(rls_off_db: Database) -> None:
    """Control: the probes above meet no policy, so only the repositories' filters are tested."""
    on = rls_off_db.rows(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND (c.relrowsecurity OR c.relforcerowsecurity)"
    )
    assert on == []
