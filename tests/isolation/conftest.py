"""A scratch database with row-level security switched off: the application's own filters alone.

Built by the real migrations like every test database, then, as the superuser, RLS is disabled
on every table that has it (``DISABLE`` and ``NO FORCE``): the policies still exist but nothing
applies them. Only the tests under ``tests/isolation`` that ask for ``rls_off_db`` use it; the
session-wide ``db`` (RLS on) is untouched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.isolation.seed import TENANT_TABLES, World, seed_world
from tests.support import Database, migrated_database

RLS_TABLES = (
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind = 'r' AND (c.relrowsecurity OR c.relforcerowsecurity)"
)


def disable_rls(db: Database) -> None:
    """Switch RLS off on every table that has it; prove it is off on every tenant table."""
    with db.connect() as conn:
        tables = [name for (name,) in conn.execute(RLS_TABLES).fetchall()]
        assert set(TENANT_TABLES) <= set(tables), "a tenant table had no RLS to switch off"
        for table in tables:
            conn.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            conn.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
        assert conn.execute(RLS_TABLES).fetchall() == []


@pytest.fixture(scope="session")
def rls_off_db() -> Iterator[Database]:
    with migrated_database() as database:
        disable_rls(database)
        yield database


@pytest.fixture(scope="session")
def rls_off_world(rls_off_db: Database) -> World:
    return seed_world(rls_off_db)
