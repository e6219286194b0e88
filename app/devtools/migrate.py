"""Run Alembic migrations programmatically (``python -m app migrate``).

Logging is the project's (app/core/logging.py): the CLI configures it, and migrations/env.py
does when nothing has; alembic.ini carries no logging sections for ``fileConfig`` to apply.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(app_role: str | None = None) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if app_role:
        config.attributes["app_role"] = app_role
    return config


def upgrade(revision: str = "heads", *, app_role: str | None = None) -> None:
    command.upgrade(alembic_config(app_role), revision)


def downgrade(revision: str, *, app_role: str | None = None) -> None:
    command.downgrade(alembic_config(app_role), revision)
