"""``make run``/``make test`` setup: a database (embedded unless DATABASE_URL is set) and an
ignored env file holding generated development secrets. Refuses to run in production."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.devtools.database import bootstrap, start_embedded


def prepare_dev_env(data_dir: str, env_file: str, database: str) -> str:
    if os.environ.get("ENVIRONMENT") == "production":
        raise SystemExit("dev-db is for development and tests only")
    env_path = Path(env_file)
    env_path.parent.mkdir(parents=True, exist_ok=True)
    values = _read_env(env_path)
    if "SECRET_KEY" not in values:
        values["SECRET_KEY"] = secrets.token_urlsafe(48)
    if os.environ.get("DATABASE_URL"):
        values.pop("DATABASE_URL", None)
        values.pop("DATABASE_MIGRATION_URL", None)
    else:
        admin_url = start_embedded(Path(data_dir).resolve())
        urls = bootstrap(admin_url, database)
        values["DATABASE_URL"] = urls.app
        values["DATABASE_MIGRATION_URL"] = urls.migration
        values["POSTGRES_ADMIN_URL"] = admin_url
    env_path.write_text("".join(f"{k}='{v}'\n" for k, v in values.items()), encoding="utf-8")
    env_path.chmod(0o600)
    return f"wrote {env_path}"


def _read_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("'")
    return values
