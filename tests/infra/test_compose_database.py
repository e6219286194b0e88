"""The compose PostgreSQL's first-start SQL (infra/compose/postgres/10-roles.sql) on a real,
private PostgreSQL: it creates the production roles from secret files, the migrations run as
the owner, and the backup job's pg_dump works under forced row-level security (where a dump as
the owner fails) and restores into an empty database.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.faults.private_postgres import PG_BIN, PrivatePostgres
from tests.support import ROOT

pytestmark = pytest.mark.checklist(
    "C14",
    red="let infra/compose/postgres/10-roles.sql give the app role ownership or BYPASSRLS, or "
    "break the backup role's pg_dump under forced RLS",
)

INIT_SQL = ROOT / "infra" / "compose" / "postgres" / "10-roles.sql"
ROLES_SQL = ROOT / "infra" / "postgres" / "roles.sql"
ROLES = ("launchproof_owner", "launchproof_app", "launchproof_backup")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivatePostgres, Path]]:
    """A private PostgreSQL initialised exactly as the compose service's first start does."""
    secret_dir = tmp_path_factory.mktemp("run-secrets")
    for name in ("owner", "app", "backup"):
        (secret_dir / f"postgres_{name}_password").write_text(secrets.token_hex(32) + "\n")
    # Same SQL, with the container paths pointed at this test's files.
    init = secret_dir / "10-roles.sql"
    text = INIT_SQL.read_text(encoding="utf-8").replace("/run/secrets", str(secret_dir))
    init.write_text(text.replace("/etc/launchproof/roles.sql", str(ROLES_SQL)))
    pg = PrivatePostgres()
    pg.start()
    try:
        psql = [str(PG_BIN / "psql"), "-v", "ON_ERROR_STOP=1", "-X", "-q", "-f", str(init)]
        run = subprocess.run([*psql, pg.admin_url], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        yield pg, secret_dir
    finally:
        pg.destroy()


def _url(pg: PrivatePostgres, role: str, database: str = "launchproof") -> str:
    return f"postgresql://{role}@127.0.0.1:{pg.port}/{database}"


def test_roles_are_created_with_least_privilege(server: tuple[PrivatePostgres, Path]) -> None:
    pg, _ = server
    with psycopg.connect(pg.admin_url) as conn:
        rows = conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole,"
            " rolpassword IS NOT NULL FROM pg_authid WHERE rolname = ANY(%s) ORDER BY rolname",
            (list(ROLES),),
        ).fetchall()
        readers = conn.execute(
            "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member"
            " JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = 'pg_read_all_data'"
        ).fetchall()
    assert rows == [
        ("launchproof_app", False, False, False, False, True),
        ("launchproof_backup", False, True, False, False, True),
        ("launchproof_owner", False, False, False, False, True),
    ]
    assert readers == [("launchproof_backup",)]


def test_migrate_then_backup_and_restore(
    server: tuple[PrivatePostgres, Path], tmp_path: Path
) -> None:
    pg, _ = server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env |= {
        "DATABASE_MIGRATION_URL": _url(pg, "launchproof_owner"),
        "DATABASE_APP_ROLE": "launchproof_app",
    }
    migrate = subprocess.run(
        [sys.executable, "-m", "app", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    with psycopg.connect(_url(pg, "launchproof_owner")) as conn:
        forced = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relforcerowsecurity AND relkind = 'r'"
        ).fetchone()
    assert forced is not None
    assert forced[0] > 0  # the dump below runs against forced RLS
    with psycopg.connect(pg.admin_url.rsplit("/", 1)[0] + "/launchproof") as conn:
        conn.execute("INSERT INTO workspace (id, name) VALUES (gen_random_uuid(), 'tenant row')")

    dump = tmp_path / "launchproof.dump"
    pg_dump = [str(PG_BIN / "pg_dump"), "--format=custom", f"--file={dump}"]
    as_owner = subprocess.run(
        [*pg_dump, _url(pg, "launchproof_owner")], capture_output=True, text=True, timeout=120
    )
    assert as_owner.returncode != 0  # why the backup job has its own BYPASSRLS role
    assert "row-level security" in as_owner.stderr
    as_backup = subprocess.run(
        [*pg_dump, _url(pg, "launchproof_backup")], capture_output=True, text=True, timeout=120
    )
    assert as_backup.returncode == 0, as_backup.stderr

    # The backup role reads; it cannot write.
    with psycopg.connect(_url(pg, "launchproof_backup")) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.intruder (id int)")

    # Restore (docs/deploy.md): an empty database owned by the owner role, pg_restore into it.
    with psycopg.connect(pg.admin_url, autocommit=True) as conn:
        conn.execute("CREATE DATABASE launchproof_restored OWNER launchproof_owner")
    restore = subprocess.run(
        [str(PG_BIN / "pg_restore"), "--exit-on-error", "--no-owner", "--role=launchproof_owner"]
        + [f"--dbname={_url(pg, 'postgres', 'launchproof_restored')}", str(dump)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert restore.returncode == 0, restore.stderr
    with psycopg.connect(_url(pg, "launchproof_owner", "launchproof_restored")) as conn:
        head = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    assert head
    with psycopg.connect(_url(pg, "postgres", "launchproof_restored")) as conn:
        names = conn.execute("SELECT name FROM workspace").fetchall()
        policies = conn.execute("SELECT count(*) FROM pg_policies").fetchone()
    assert names == [("tenant row",)]  # tenant rows survive the round trip
    assert policies is not None
    assert policies[0] > 0  # and so do the RLS policies
