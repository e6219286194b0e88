"""Alembic environment: runs as the owner role (DATABASE_MIGRATION_URL), never the app role.

The app role's name reaches migrations as ``app_role`` (``-x app_role=...`` or derived from
DATABASE_URL) so grants and default privileges name it.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401 - registers every model on the metadata
from app.core.config import get_settings
from app.core.db import async_url
from app.core.logging import configure_logging, logging_configured
from app.core.models import Base

target_metadata = Base.metadata

# A development checkout reads .data/dev.env and .env like every CLI command does
# (app/devtools/dev_env.py: development only, real variables win; an installed production wheel
# has no app.devtools), so a bare `alembic revision --autogenerate` finds the database by itself.
if importlib.util.find_spec("app.devtools") is not None:
    importlib.import_module("app.devtools.dev_env").load_dev_env()

# The project's logging (JSON lines, redacted), never alembic.ini's fileConfig: ``python -m app
# migrate`` has configured it already; a bare ``alembic upgrade`` gets it here.
if not logging_configured():
    configure_logging(get_settings())


def _urls() -> tuple[str, str]:
    settings = get_settings()
    migration = settings.database_migration_url or settings.database_url
    if migration is None:
        raise RuntimeError("DATABASE_MIGRATION_URL is not set")
    app_role = context.config.attributes.get("app_role") or context.get_x_argument(
        as_dictionary=True
    ).get("app_role")
    if not app_role:
        app_role = settings.database_app_role
    if not app_role:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL (or -x app_role=NAME) is needed to grant the app role")
        app_role = make_url(settings.database_url.get_secret_value()).username or ""
    return migration.get_secret_value(), app_role


def _number_new_revision(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """New revisions get the project's numbered ids (``0010_create_things``), not random hex."""
    from app.devtools.migration_names import next_revision_id

    script = directives[0]
    heads = context.script.get_heads()
    script.rev_id = next_revision_id(tuple(heads), script.message)


def _run(connection: Connection, app_role: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        transaction_per_migration=True,
        process_revision_directives=_number_new_revision,
    )
    context.get_context().opts["app_role"] = app_role
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    url, app_role = _urls()
    engine = create_async_engine(async_url(url))
    async with engine.connect() as connection:
        await connection.run_sync(_run, app_role)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline mode is not supported: migrations need the live owner role")
asyncio.run(_main())
