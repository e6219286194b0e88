"""Development settings files: ``make run``/``make test`` write one, every CLI command reads it.

``prepare_dev_env`` (``python -m app dev-db``) starts a database (embedded unless DATABASE_URL is
set) and writes the ignored ``.data/dev.env`` holding its URLs and a generated ``SECRET_KEY``.
``load_dev_env`` lets every other command (``create-user``, ``migrate``, ``alembic revision``...)
find those settings by itself on a fresh clone, without sourcing the file by hand. It lives here,
outside the production wheel, so an installed production image cannot read such a file at all;
in a checkout it acts only when the environment is development (docs/configuration.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from dotenv import dotenv_values

from app.devtools.database import bootstrap, start_embedded

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Earlier files win: what make run generated, then a person's own .env (copied from .env.example).
DEV_ENV_FILES = (".data/dev.env", ".env")
DEV_ALLOWED_ADDRESSES = "127.0.0.1"


def load_dev_env(root: Path = PROJECT_ROOT) -> list[Path]:
    """Fill unset environment variables from the development files; return the files read.

    Real environment variables always win (never overwritten). Nothing is read unless the
    resulting ``ENVIRONMENT`` is development (the default), so ``ENVIRONMENT=test`` or
    ``production`` in the environment, or ``ENVIRONMENT=production`` in a file, keeps it off.
    """
    files = [root / name for name in DEV_ENV_FILES if (root / name).is_file()]
    merged: dict[str, str] = {}
    for path in files:
        for key, value in dotenv_values(path).items():
            if value is not None:
                merged.setdefault(key.upper(), value)
    environment = os.environ.get("ENVIRONMENT") or merged.get("ENVIRONMENT") or "development"
    if environment.strip().lower() != "development":
        return []
    present = {key.upper() for key in os.environ}
    for key, value in merged.items():
        if key not in present:
            os.environ[key] = value
    return files


def prepare_dev_env(data_dir: str, env_file: str, database: str) -> str:
    if os.environ.get("ENVIRONMENT") == "production":
        raise SystemExit("dev-db is for development and tests only")
    env_path = Path(env_file)
    env_path.parent.mkdir(parents=True, exist_ok=True)
    values = _read_env(env_path)
    if "SECRET_KEY" not in values:
        values["SECRET_KEY"] = secrets.token_urlsafe(48)
    # Webhook receivers and the fetch tool may reach 127.0.0.1 in development (a local receiver
    # works out of the box); production refuses to start with this setting.
    values.setdefault("OUTBOUND_DEV_ALLOWED_ADDRESSES", DEV_ALLOWED_ADDRESSES)
    if os.environ.get("DATABASE_URL"):
        values.pop("DATABASE_URL", None)
        values.pop("DATABASE_MIGRATION_URL", None)
    else:
        admin_url = start_embedded(Path(data_dir).resolve())
        urls = bootstrap(admin_url, database)
        values["DATABASE_URL"] = urls.app
        values["DATABASE_MIGRATION_URL"] = urls.migration
        values["POSTGRES_ADMIN_URL"] = admin_url
    write_env_file(env_path, values)
    return f"wrote {env_path}"


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """``KEY='value'`` lines, owner-only: the shell (make run) and ``load_dev_env`` both read it."""
    path.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()), encoding="utf-8")
    path.chmod(0o600)


def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return {key: value for key, value in dotenv_values(path).items() if value is not None}
