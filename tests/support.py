"""Test infrastructure: a per-run database built by migrations, a real uvicorn server, clients.

Tests talk to the running service over HTTP (the way a reviewer attacks it) and read the
database as its administrator only to *observe* (outbox mail, rows unchanged). Nothing here
patches project code.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


def admin_url() -> str:
    """A PostgreSQL URL allowed to create databases and roles (tests build their own DB).

    ``DATABASE_URL`` when set (CI: the machine's server), else ``POSTGRES_ADMIN_URL`` written by
    ``make test`` for the embedded server. Missing both is a failure, never a skip.
    """
    url = os.environ.get("DATABASE_URL") or os.environ.get("POSTGRES_ADMIN_URL")
    if not url:
        raise RuntimeError(
            "set DATABASE_URL (or run `make test`, which starts embedded PostgreSQL)"
        )
    return url


def psycopg_dsn(url: str) -> str:
    parsed = make_url(url)
    parts = [f"dbname={parsed.database or 'postgres'}", f"user={parsed.username or 'postgres'}"]
    host = parsed.query.get("host") or parsed.host
    if isinstance(host, tuple):
        host = host[0]
    if host:
        parts.append(f"host={host}")
    if parsed.port:
        parts.append(f"port={parsed.port}")
    if parsed.password:
        parts.append(f"password={parsed.password}")
    return " ".join(parts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Database:
    name: str
    admin: str  # superuser URL to this database
    app: str  # app-role URL
    migration: str  # owner-role URL

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection[Any]]:
        """A superuser connection for observation (bypasses RLS by design: it is the judge)."""
        with psycopg.connect(psycopg_dsn(self.admin), autocommit=True) as conn:
            yield conn

    def scalar(self, sql: str, *params: Any) -> Any:
        with self.connect() as conn:
            row = conn.execute(sql, params).fetchone()
            return None if row is None else row[0]

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            return list(conn.execute(sql, params).fetchall())

    def snapshot(self, *tables: str) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of ``tables`` (sorted), to assert that an attack changed nothing."""
        with self.connect() as conn:  # one connection for all tables (BOLA runs this per case)
            return {
                t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)  # noqa: S608
                for t in tables
            }

    def last_mail(self, to: str, kind: str) -> str:
        body = self.scalar(
            "SELECT body_text FROM email_outbox WHERE to_address = %s AND kind = %s "
            "ORDER BY created_at DESC LIMIT 1",
            to,
            kind,
        )
        assert body is not None, f"no {kind} mail for {to}"
        return str(body)

    def token_from_mail(self, to: str, kind: str) -> str:
        match = re.search(r"token=([A-Za-z0-9_-]+)", self.last_mail(to, kind))
        assert match is not None
        return match.group(1)


def create_database() -> Database:
    from app.devtools.database import bootstrap

    name = f"lp_test_{secrets.token_hex(4)}"
    urls = bootstrap(admin_url(), name)
    admin = make_url(admin_url()).set(database=name).render_as_string(hide_password=False)
    return Database(name=name, admin=admin, app=urls.app, migration=urls.migration)


@contextmanager
def migrated_database() -> Iterator[Database]:
    """A fresh database built by the real migrations (owner role), dropped afterwards."""
    database = create_database()
    result = run_cli(base_env(database), "migrate")
    assert result.returncode == 0, result.stderr[-3000:]
    try:
        yield database
    finally:
        drop_database(database)


def drop_database(db: Database) -> None:
    import asyncio

    from app.devtools.database import drop_database as drop

    asyncio.run(drop(admin_url(), db.name))
    shutil.rmtree(Path(tempfile.gettempdir()) / f"{db.name}-files", ignore_errors=True)  # files


GENEROUS_RATE_LIMITS = (
    "RATE_LIMIT_LOGIN_IP",
    "RATE_LIMIT_LOGIN_ACCOUNT",
    "RATE_LIMIT_SECOND_FACTOR_IP",
    "RATE_LIMIT_SECOND_FACTOR_ACCOUNT",
    "RATE_LIMIT_SIGNUP_IP",
    "RATE_LIMIT_PASSWORD_RESET_IP",
    "RATE_LIMIT_PASSWORD_RESET_ACCOUNT",
    "RATE_LIMIT_VERIFY_EMAIL_IP",
    "RATE_LIMIT_VERIFY_EMAIL_ACCOUNT",
    "RATE_LIMIT_UPLOAD",
    "RATE_LIMIT_WEBHOOK",
    "RATE_LIMIT_API_KEY_CREATE",
    "RATE_LIMIT_INVITATION",
    "RATE_LIMIT_WEBHOOK_REPLAY",
    "RATE_LIMIT_ADMIN",
    "RATE_LIMIT_READ",
)


def base_env(db: Database, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "POSTGRES_"))}
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=db.app,
        DATABASE_MIGRATION_URL=db.migration,
        SECRET_KEY=secrets.token_urlsafe(48),
        # Limits live in the machine's shared Redis (when REDIS_URL is set): a key prefix per
        # run keeps concurrent runs apart. The suite sends far more than a person would, so the
        # send budget is raised here; tests/chat/test_rate_limit.py tests a tight one.
        RATE_LIMIT_KEY_PREFIX=f"lp-test-{secrets.token_hex(6)}",
        RATE_LIMIT_CHAT_SEND="1000/minute",
        # Likewise every other budget: the suite signs up and logs in hundreds of times from
        # 127.0.0.1; tests/edge/test_rate_limits.py tests tight ones on dedicated servers.
        **dict.fromkeys(GENEROUS_RATE_LIMITS, "100000/minute"),
        # Files: uploads of this run go to a private temporary directory, and servers run without
        # a scanner unless a test gives them one (tests/files starts a real clamd and sets
        # CLAMD_URL and SCANNER_DISABLED=false): files are then usable, marked "disabled".
        STORAGE_BACKEND="local",
        STORAGE_LOCAL_DIR=str(Path(tempfile.gettempdir()) / f"{db.name}-files"),
        SCANNER_DISABLED="true",
    )
    env.update(extra)
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Server:
    url: str
    origin: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def start_server(
    env: dict[str, str],
    log_path: Path,
    *,
    workers: int = 1,
    overrides: dict[str, str] | None = None,
    ready_path: str = "/readyz",
    public_host: str = "127.0.0.1",
) -> Server:
    """Start uvicorn on a free port; ``overrides`` win over the loopback defaults set here.

    Started means ``ready_path`` answers 200 (``/healthz`` for a server meant to be unready).
    ``public_host="localhost"`` names it by host name in ``PUBLIC_URL`` (WebAuthn refuses an IP
    address as relying party id); it still listens on 127.0.0.1.
    """
    port = free_port()
    origin = f"http://{public_host}:{port}"
    env = {
        **env,
        "PUBLIC_URL": origin,
        "ALLOWED_ORIGINS": env.get("ALLOWED_ORIGINS", origin),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        **(overrides or {}),
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(origin + ready_path, timeout=3).status_code == 200:
                return Server(
                    url=origin, origin=origin, env=env, process=process, log_path=log_path
                )
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not become ready in 30 s")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@dataclass
class Actor:
    """A signed-in person driving the API like a browser would (cookie + same-origin)."""

    server: Server
    email: str
    password: str
    user_id: str
    cookie: str | None = None
    cookie_name: str = "__Host-lp_session"
    workspaces: dict[str, str] = field(default_factory=dict)
    totp_secret: str | None = None  # set by tests.factories.mfa.enrol_totp

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Origin": self.server.origin}
        if self.cookie:
            headers["Cookie"] = f"{self.cookie_name}={self.cookie}"
        headers.update(extra or {})
        return headers

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self.headers(kwargs.pop("headers", None))
        return httpx.request(method, self.server.url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)


def session_cookie(response: httpx.Response, name: str = "__Host-lp_session") -> str:
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key == name:
            return rest.split(";", 1)[0]
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


class Anonymous:
    """An unauthenticated same-origin client."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Origin": self.server.origin, **kwargs.pop("headers", {})}
        return httpx.request(method, self.server.url + path, headers=headers, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)


@dataclass
class Stub:
    """The project's OpenAI-compatible model stub, in its own process on loopback."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def reset(self) -> None:
        httpx.post(self.url + "/_stub/reset", timeout=5).raise_for_status()

    def script(self, responses: list[dict[str, Any]]) -> None:
        httpx.post(
            self.url + "/_stub/script", json={"responses": responses}, timeout=5
        ).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        body: Any = httpx.get(self.url + "/_stub/requests", timeout=5).json()
        items: list[dict[str, Any]] = body.get("requests", body) if isinstance(body, dict) else body
        return items


def start_stub(log_path: Path) -> Stub:
    port = free_port()
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "model-stub", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"model stub exited: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            httpx.get(url + "/v1/models", timeout=1)
            return Stub(url=url, process=process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("model stub did not start in 20 s")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
