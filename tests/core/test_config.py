"""Production refuses insecure configuration, and says which setting without saying its value (C4).

Three layers are checked: ``Settings.production_problems()`` itself, the two places that use it
(``python -m app check-config`` and ``create_app`` in production), and the database-role check
that refuses, in every environment, a ``DATABASE_URL`` that would bypass row-level security.
The client-IP resolver (rate limits and the audit log trust it) is unit-tested in
test_client_ip_resolver.py.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.core.db import async_url
from app.health.repository import DatabaseProbe
from app.main import InsecureConfiguration, create_app
from tests.email.keys import private_key, private_pem
from tests.support import Database, base_env, run_cli, start_server, stop_server

pytestmark = pytest.mark.checklist(
    "C4",
    red="drop a check from Settings.production_problems(), let create_app or the server start in "
    "production with an insecure setting, or print a setting's value",
)

# Hex secrets: long, random, and free of every placeholder marker ("xxx", "secret", ...).
SECRET_KEY = secrets.token_hex(32)
APP_PASSWORD = secrets.token_hex(12)
OWNER_PASSWORD = secrets.token_hex(12)
REDIS_PASSWORD = secrets.token_hex(12)
OPENAI_KEY = "sk-" + secrets.token_hex(24)
APP_URL = f"postgresql://launchproof_app:{APP_PASSWORD}@db.internal:5432/launchproof"
OWNER_URL = f"postgresql://launchproof_owner:{OWNER_PASSWORD}@db.internal:5432/launchproof"
SHORT_KEY = secrets.token_hex(8)
PLACEHOLDER_KEY = "changeme-" + secrets.token_hex(20)
# Platform e-mail: production requires an SMTP relay and a DKIM key (docs/email.md).
SMTP_PASSWORD = secrets.token_hex(12)
SMTP_URL = f"smtps://mailer:{SMTP_PASSWORD}@smtp.internal:465"
DKIM_PEM = private_pem(private_key())
WEBHOOK_KEYS = Fernet.generate_key().decode()  # webhooks
SECRETS = (
    SECRET_KEY,
    APP_PASSWORD,
    OWNER_PASSWORD,
    REDIS_PASSWORD,
    OPENAI_KEY,
    SHORT_KEY,
    PLACEHOLDER_KEY,
    SMTP_PASSWORD,
    WEBHOOK_KEYS,
)


def _setting_env_names() -> set[str]:
    names = {name.upper() for name in Settings.model_fields}
    return names | {f"{name}_FILE" for name in names}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: nothing from the runner's shell may leak into a case."""
    names = _setting_env_names()
    for key in list(os.environ):
        if key.upper() in names:
            monkeypatch.delenv(key)


def secure_values() -> dict[str, Any]:
    return {
        "environment": "production",
        "secret_key": SECRET_KEY,
        "public_url": "https://api.launchproof.test",
        "allowed_origins": ["https://app.launchproof.test"],
        "allowed_hosts": ["api.launchproof.test"],
        "database_url": APP_URL,
        "database_migration_url": OWNER_URL,
        "redis_url": f"redis://:{REDIS_PASSWORD}@redis.internal:6379/0",
        "openai_api_key": OPENAI_KEY,
        "clamd_url": "tcp://clamd.internal:3310",  # files: production requires a scanner
        # e-mail: production requires SMTP and a DKIM key
        "smtp_url": SMTP_URL,
        "dkim_private_key": DKIM_PEM,
        "dkim_selector": "lp2026",
        # webhooks: signing secrets are encrypted with explicit keys in production
        "webhook_encryption_keys": WEBHOOK_KEYS,
    }


def settings_with(**overrides: Any) -> Settings:
    return Settings(**{**secure_values(), **overrides})


def assert_no_secret(text: str) -> None:
    for value in SECRETS:
        assert value not in text, "a secret value reached a message"


# --- production_problems() ------------------------------------------------------------------


def test_a_secure_production_configuration_has_no_problems() -> None:
    settings = settings_with()
    assert settings.production_problems() == []
    assert not settings.show_docs


INSECURE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("secret-key-missing", {"secret_key": None}, "SECRET_KEY is not set"),
    ("secret-key-short", {"secret_key": SHORT_KEY}, "SECRET_KEY is shorter than 32"),
    ("secret-key-placeholder", {"secret_key": PLACEHOLDER_KEY}, "SECRET_KEY looks like a"),
    ("openai-key-placeholder", {"openai_api_key": PLACEHOLDER_KEY}, "OPENAI_API_KEY looks like"),
    ("openai-key-missing", {"openai_api_key": None}, "OPENAI_API_KEY is not set"),
    ("openai-http-base", {"openai_base_url": "http://llm.internal/v1"}, "OPENAI_BASE_URL is not"),
    ("outbound-dev-allowance", {"outbound_dev_allowed_addresses": ["127.0.0.1"]}, "OUTBOUND_DEV"),
    ("debug", {"debug": True}, "DEBUG is on"),
    ("docs", {"docs_enabled": True}, "DOCS_ENABLED"),
    ("cors-wildcard", {"allowed_origins": ["*"]}, "ALLOWED_ORIGINS contains a wildcard"),
    ("cors-http", {"allowed_origins": ["http://app.launchproof.test"]}, "non-https origin"),
    ("cookie-not-secure", {"session_cookie_secure": False}, "SESSION_COOKIE_SECURE is off"),
    ("hosts-empty", {"allowed_hosts": []}, "ALLOWED_HOSTS is empty or a wildcard"),
    ("hosts-wildcard", {"allowed_hosts": ["*"]}, "ALLOWED_HOSTS is empty or a wildcard"),
    ("public-url-http", {"public_url": "http://api.launchproof.test"}, "PUBLIC_URL is not https"),
    ("database-missing", {"database_url": None}, "DATABASE_URL is not set"),
    ("database-sqlite", {"database_url": "sqlite+aiosqlite:///./app.db"}, "DATABASE_URL is not a"),
    (
        "migration-sqlite",
        {"database_migration_url": "sqlite:///./app.db"},
        "DATABASE_MIGRATION_URL is not a PostgreSQL URL",
    ),
    (
        "database-is-owner",
        {"database_url": OWNER_URL.replace(OWNER_PASSWORD, APP_PASSWORD)},
        "DATABASE_URL uses the migration (owner) role",
    ),
    ("redis-missing", {"redis_url": None}, "REDIS_URL is not set"),
    # Files: no scanner, or a scanner switched off, is refused in production.
    ("clamd-missing", {"clamd_url": None}, "CLAMD_URL is not set"),
    ("scanner-disabled", {"scanner_disabled": True}, "SCANNER_DISABLED is on"),
    ("s3-without-bucket", {"storage_backend": "s3"}, "S3_BUCKET is not set"),
    # Platform e-mail: no relay or no DKIM key is refused; a weak metrics token too.
    ("smtp-missing", {"smtp_url": None}, "SMTP_URL is not set"),
    ("dkim-missing", {"dkim_private_key": None}, "DKIM_PRIVATE_KEY (or DKIM_PRIVATE_KEY_FILE)"),
    ("dkim-selector-missing", {"dkim_selector": None}, "DKIM_SELECTOR is not set"),
    # Webhooks
    ("webhook-keys-missing", {"webhook_encryption_keys": None}, "WEBHOOK_ENCRYPTION_KEYS is not"),
    ("webhook-keys-malformed", {"webhook_encryption_keys": SHORT_KEY}, "WEBHOOK_ENCRYPTION_KEYS"),
    ("outbound-dns-server", {"outbound_dns_server": "127.0.0.1:5353"}, "OUTBOUND_DNS_SERVER"),
    ("metrics-token-short", {"metrics_token": SHORT_KEY}, "METRICS_TOKEN is shorter than 32"),
]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [pytest.param(o, e, id=name) for name, o, e in INSECURE_CASES],
)
def test_each_insecure_setting_is_refused_by_name_only(
    overrides: dict[str, Any], expected: str
) -> None:
    problems = settings_with(**overrides).production_problems()
    assert len(problems) == 1, problems
    assert expected in problems[0]
    assert_no_secret("\n".join(problems))


@pytest.mark.checklist("C5", red="accept `null` in ALLOWED_ORIGINS")
def test_null_origin_is_refused_when_settings_load() -> None:
    """``null`` is what sandboxed iframes and file: pages send: never an approved origin."""
    with pytest.raises(ValidationError, match="ALLOWED_ORIGINS"):
        settings_with(allowed_origins=["null"])


def test_secrets_are_masked_in_repr_and_dumps() -> None:
    settings = settings_with()
    assert_no_secret(repr(settings))
    assert_no_secret(str(settings))
    assert_no_secret(settings.model_dump_json())


def test_secret_key_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text(SECRET_KEY + "\n", encoding="utf-8")
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "database_url"))
    (tmp_path / "database_url").write_text(APP_URL, encoding="utf-8")
    settings = Settings()
    assert settings.secret_key == SecretStr(SECRET_KEY)
    assert settings.require_secret_key() == SECRET_KEY.encode()
    assert settings.database_url == SecretStr(APP_URL)

    key_file.write_text(SHORT_KEY, encoding="utf-8")
    problems = Settings(**{**secure_values(), "secret_key": None}).production_problems()
    assert problems == ["SECRET_KEY is shorter than 32 characters"]
    assert_no_secret("\n".join(problems))


# --- Where the check is used ----------------------------------------------------------------


def _cli_env(**values: str) -> dict[str, str]:
    names = _setting_env_names()
    env = {k: v for k, v in os.environ.items() if k.upper() not in names}
    env.update(values)
    return env


def test_check_config_lists_problems_without_values() -> None:
    env = _cli_env(
        ENVIRONMENT="development",
        SECRET_KEY=SHORT_KEY,
        DEBUG="true",
        ALLOWED_ORIGINS="*",
        DATABASE_URL=APP_URL.replace("postgresql", "sqlite"),
        DATABASE_MIGRATION_URL=OWNER_URL,
    )
    result = run_cli(env, "check-config")
    assert result.returncode == 1, result.stderr
    for expected in (
        "SECRET_KEY is shorter",
        "DEBUG is on",
        "ALLOWED_ORIGINS contains a wildcard",
        "ALLOWED_HOSTS",
        "DATABASE_URL is not a PostgreSQL URL",
        "REDIS_URL is not set",
    ):
        assert expected in result.stdout
    assert_no_secret(result.stdout + result.stderr)


def test_check_config_accepts_a_secure_configuration() -> None:
    values = secure_values()
    env = _cli_env(
        ENVIRONMENT="production",
        SECRET_KEY=SECRET_KEY,
        PUBLIC_URL=values["public_url"],
        ALLOWED_ORIGINS=",".join(values["allowed_origins"]),
        ALLOWED_HOSTS=",".join(values["allowed_hosts"]),
        DATABASE_URL=APP_URL,
        DATABASE_MIGRATION_URL=OWNER_URL,
        REDIS_URL=values["redis_url"],
        OPENAI_API_KEY=OPENAI_KEY,
        SMTP_URL=SMTP_URL,
        DKIM_PRIVATE_KEY=DKIM_PEM,
        DKIM_SELECTOR="lp2026",
        WEBHOOK_ENCRYPTION_KEYS=WEBHOOK_KEYS,  # webhooks
        CLAMD_URL=values["clamd_url"],  # files
    )
    result = run_cli(env, "check-config")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "acceptable" in result.stdout
    assert_no_secret(result.stdout + result.stderr)


def test_production_app_factory_refuses_insecure_settings() -> None:
    with pytest.raises(InsecureConfiguration) as refused:
        create_app(settings_with(secret_key=PLACEHOLDER_KEY, debug=True))
    message = str(refused.value)
    assert "SECRET_KEY looks like a placeholder" in message
    assert "DEBUG is on" in message
    assert_no_secret(message)

    app = create_app(settings_with())  # the secure twin starts, docs off
    assert app.docs_url is None
    assert app.openapi_url is None


def refused_start(env: dict[str, str], log_path: Path) -> str:
    """Start the real server and expect it to exit early; return what it said."""
    try:
        server = start_server(env, log_path)
    except RuntimeError as exc:
        message = str(exc)
    else:
        stop_server(server)
        raise AssertionError("the server started")
    assert "server exited" in message  # not "did not become ready": it exited on its own
    return message


def test_production_server_process_refuses_to_start(db: Database, tmp_path: Path) -> None:
    env = base_env(db, ENVIRONMENT="production", SECRET_KEY=SHORT_KEY)
    message = refused_start(env, tmp_path / "server.log")
    assert "refusing to start" in message
    assert "SECRET_KEY is shorter" in message
    assert_no_secret(message)


# --- The database role --------------------------------------------------------------------


@pytest.mark.checklist(
    "C2",
    red="start with a DATABASE_URL role that is superuser, has BYPASSRLS or owns the tables",
)
@pytest.mark.parametrize(
    ("which", "problem"),
    [("migration", "table owner"), ("admin", "superuser")],
)
def test_server_refuses_a_role_that_bypasses_rls(
    db: Database, tmp_path: Path, which: str, problem: str
) -> None:
    env = base_env(db, DATABASE_URL=getattr(db, which))
    message = refused_start(env, tmp_path / "server.log")
    assert f"DATABASE_URL connects as a {problem}" in message


async def _role_problems(url: str) -> list[str]:
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with AsyncSession(engine) as session:
            return await DatabaseProbe(session).role_problems()
    finally:
        await engine.dispose()


@pytest.mark.checklist(
    "C2",
    red="drop a check (superuser, BYPASSRLS, table owner) from the database-role probe",
)
def test_role_probe_names_every_way_around_rls(db: Database) -> None:
    assert asyncio.run(_role_problems(db.app)) == []
    owner_problem = "DATABASE_URL connects as a table owner (or a member of its role)"
    assert asyncio.run(_role_problems(db.migration)) == [owner_problem]
    assert "DATABASE_URL connects as a superuser" in asyncio.run(_role_problems(db.admin))

    role = f"lp_bypass_{secrets.token_hex(4)}"
    with db.connect() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN NOSUPERUSER BYPASSRLS")
    try:
        url = make_url(db.app).set(username=role).render_as_string(hide_password=False)
        assert asyncio.run(_role_problems(url)) == [
            "DATABASE_URL connects as a role with BYPASSRLS"
        ]
    finally:
        with db.connect() as conn:
            conn.execute(f"DROP ROLE {role}")

    # A role that merely inherits the owner's privileges owns the tables just the same.
    member = f"lp_owner_member_{secrets.token_hex(4)}"
    owner = make_url(db.migration).username
    with db.connect() as conn:
        conn.execute(f"CREATE ROLE {member} LOGIN NOSUPERUSER IN ROLE {owner}")
    try:
        url = make_url(db.app).set(username=member).render_as_string(hide_password=False)
        assert asyncio.run(_role_problems(url)) == [owner_problem]
    finally:
        with db.connect() as conn:
            conn.execute(f"DROP ROLE {member}")
