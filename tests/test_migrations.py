"""Migrations (rule 29): every one has a working downgrade, and the models match the schema.

A fresh database of its own (the session ``db`` stays at head for everyone else), migrated by the
real entry point in a subprocess as the owner role: up to head, down to base, then a "stairway"
(up, down, up again) through every revision. After ``downgrade base`` nothing of ours remains:
no tables, policies, ``app_*`` functions, enum types or grants. At head, Alembic's autogenerate
finds no difference between ``Base.metadata`` and the migrated schema.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

import app.models  # noqa: F401 - registers every model on the metadata
from app.core.migrations import alembic_config
from app.core.models import Base
from app.devtools.database import bootstrap, drop_database
from tests.support import ROOT, Database, admin_url, base_env, psycopg_dsn

FILE_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{4}_[a-z0-9_]+\.py$")
# Runs ``up:REV`` / ``down:REV`` steps with the project's own migration entry points.
STEPS_SCRIPT = """
import sys
from app.core.migrations import downgrade, upgrade
for step in sys.argv[1:]:
    direction, revision = step.split(":", 1)
    (upgrade if direction == "up" else downgrade)(revision)
"""


@pytest.fixture(scope="module")
def scratch() -> Iterator[Database]:
    name = f"lp_migrations_{secrets.token_hex(4)}"
    urls = bootstrap(admin_url(), name)
    admin = make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield Database(name=name, admin=admin, app=urls.app, migration=urls.migration)
    finally:
        asyncio.run(drop_database(admin_url(), name))


def migrate(database: Database, *steps: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", STEPS_SCRIPT, *steps],
        cwd=ROOT,
        env=base_env(database),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def revisions() -> list[tuple[str, str]]:
    """(revision, its down revision or "base"), oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, "more than one head: merge them"
    ordered = list(script.walk_revisions())[::-1]
    return [(rev.revision, str(rev.down_revision or "base")) for rev in ordered]


def schema_diff(database: Database) -> list[Any]:
    url = make_url(database.migration).set(drivername="postgresql+psycopg")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def catalog(database: Database, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(psycopg_dsn(database.admin), autocommit=True) as conn:
        return list(conn.execute(sql, params).fetchall())


def leftovers(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    app_role = make_url(database.app).username
    return {
        "relations": catalog(
            database,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname NOT IN ('alembic_version', "
            "'alembic_version_pkc') ORDER BY 1",
        ),
        "policies": catalog(database, "SELECT tablename, policyname FROM pg_policies"),
        "functions": catalog(
            database,
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public'",
        ),
        "types": catalog(
            database,
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c', 'd') "
            "AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)",
        ),
        "default_privileges": catalog(database, "SELECT defaclobjtype FROM pg_default_acl"),
        "schema_grants": catalog(
            database,
            "SELECT acl FROM pg_namespace, unnest(nspacl) AS acl "
            "WHERE nspname = 'public' AND acl::text LIKE %s",
            f"{app_role}=%",
        ),
        "versions": catalog(database, "SELECT version_num FROM alembic_version"),
    }


def test_migration_files_follow_the_naming_rule() -> None:
    versions = sorted((ROOT / "migrations" / "versions").glob("*.py"))
    assert versions
    assert [p.name for p in versions if not FILE_NAME.match(p.name)] == []


def test_upgrade_downgrade_upgrade_leaves_no_trace_and_no_drift(scratch: Database) -> None:
    steps = revisions()
    head = steps[-1][0]

    migrate(scratch, "up:head")
    assert catalog(scratch, "SELECT version_num FROM alembic_version") == [(head,)]
    assert schema_diff(scratch) == [], "models and migrations disagree: autogenerate a migration"
    assert catalog(scratch, "SELECT count(*) FROM pg_policies")[0][0] > 0

    migrate(scratch, "down:base")
    assert leftovers(scratch) == {
        "relations": [],
        "policies": [],
        "functions": [],
        "types": [],
        "default_privileges": [],
        "schema_grants": [],
        "versions": [],
    }

    # The stairway: each revision's downgrade undoes exactly its upgrade, so it applies again.
    stairway = [f"{d}:{r}" for rev, down in steps for d, r in (("up", rev), ("down", down))]
    migrate(scratch, *stairway, "up:head")
    assert catalog(scratch, "SELECT version_num FROM alembic_version") == [(head,)]
    assert schema_diff(scratch) == []
