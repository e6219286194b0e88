"""Run Alembic migrations programmatically (``python -m app migrate``).

A production module: the container runs ``python -m app migrate`` as a one-shot before the new
version serves. ``alembic.ini`` and ``migrations/`` are not inside the wheel; they are found next
to the source tree (a checkout) or, for an installed wheel, in the working directory (the image's
``/srv``). Logging is the project's (app/core/logging.py): the CLI configures it, and
migrations/env.py does when nothing has; alembic.ini carries no logging sections.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

_SOURCE_ROOT = Path(__file__).resolve().parents[2]


class MigrationsNotFound(FileNotFoundError):
    pass


def migrations_root() -> Path:
    """The directory holding ``alembic.ini`` and ``migrations/``: the checkout, else the cwd."""
    for root in (_SOURCE_ROOT, Path.cwd()):
        if (root / "alembic.ini").is_file() and (root / "migrations").is_dir():
            return root
    raise MigrationsNotFound(
        "alembic.ini and migrations/ not found (run from the directory that holds them)"
    )


def alembic_config(app_role: str | None = None) -> Config:
    root = migrations_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    if app_role:
        config.attributes["app_role"] = app_role
    return config


def upgrade(revision: str = "heads", *, app_role: str | None = None) -> None:
    command.upgrade(alembic_config(app_role), revision)


def downgrade(revision: str, *, app_role: str | None = None) -> None:
    command.downgrade(alembic_config(app_role), revision)
