"""The benchmark's own stack, on loopback only: a fresh database, migrations, the stub, uvicorn.

The database server is the one named by ``DATABASE_URL`` (a superuser URL, as for the tests) or
else the embedded PostgreSQL of ``python -m app dev-db``. Every process is started in its own
process group and stopped (TERM, then KILL) when the context exits, whatever happened; the
database created here is dropped; an embedded server started here is stopped again.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from app.chat.provider import STUB_API_KEY
from app.core.config import Settings
from app.devtools.database import bootstrap, drop_database

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_DIR = ROOT / ".data" / "pg"
LOOPBACK = "127.0.0.1"
# The run spends far more tokens than one workspace's default daily budget; the cap is checked
# on every turn either way, only its value differs from the default.
DAILY_TOKEN_BUDGET = 1_000_000_000
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Stack:
    database: str
    admin_dsn: str  # superuser, benchmark database: the observer (outbox mail, row visibility)
    api_url: str
    stub_url: str
    server_pid: int
    stub_pid: int
    server_log: Path
    database_server: str  # "DATABASE_URL" or "embedded"
    app_database_url: str = ""  # the app role's URL (the bare reference app connects with it)
    # The API server's settings (this run's throwaway SECRET_KEY included): load.inprocess
    # builds the same application, and the reference app's /floor/me hashes the same cookies.
    server_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def secret_key(self) -> str:
        return self.server_env.get("SECRET_KEY", "")

    @property
    def stub_api_base(self) -> str:
        return f"{self.stub_url}/v1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def to_dsn(url: str) -> str:
    """A libpq conninfo from a SQLAlchemy-style URL (unix-socket ``?host=`` included)."""
    parsed = make_url(url)
    host = parsed.query.get("host") or parsed.host
    if isinstance(host, tuple):
        host = host[0]
    params: dict[str, Any] = {
        "dbname": parsed.database or "postgres",
        "user": parsed.username or "postgres",
    }
    if host:
        params["host"] = host
    if parsed.port:
        params["port"] = parsed.port
    if parsed.password:
        params["password"] = parsed.password
    return make_conninfo(**params)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``), 0.0 if unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _admin_url(cleanup: ExitStack) -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, "DATABASE_URL"
    started_here = not (EMBEDDED_DIR / "postmaster.pid").exists()
    out = _cli(dict(os.environ), "dev-db", "--admin-url-only").stdout.strip().splitlines()[-1]
    if started_here:
        cleanup.callback(_cli, dict(os.environ), "dev-db", "--stop")
    return out, "embedded"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"`python -m app {args[0]}` failed: {result.stderr[-2000:]}")
    return result


def _server_env(
    urls_app: str,
    urls_migration: str,
    origin: str,
    stub_url: str,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Production-like settings apart from TLS (see docs/performance.md)."""
    ours = {name.upper() for name in Settings.model_fields}
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in ours
        and not key.upper().endswith("_FILE")
        and not key.upper().startswith(("DATABASE_", "POSTGRES_", "OPENAI_"))
    }
    env.update(
        ENVIRONMENT="test",
        DEBUG="false",
        DOCS_ENABLED="false",
        DATABASE_URL=urls_app,
        DATABASE_MIGRATION_URL=urls_migration,
        SECRET_KEY=secrets.token_urlsafe(48),
        PUBLIC_URL=origin,
        ALLOWED_ORIGINS=origin,
        ALLOWED_HOSTS=LOOPBACK,
        OPENAI_BASE_URL=f"{stub_url}/v1",
        CHAT_DAILY_TOKEN_BUDGET=str(DAILY_TOKEN_BUDGET),
    )
    env.update(extra or {})  # a scenario's own deliberate differences (documented with it)
    return env


def _spawn(
    args: list[str], env: dict[str, str], log: Path, module: str = "app"
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "-m", module, *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """TERM the process group, KILL it after 10 s."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path, **kw: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            response = httpx.get(url, timeout=1, headers=kw)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready in {START_TIMEOUT_S:.0f} s")


@contextmanager
def running_stack(
    reports: Path,
    label: str,
    *,
    extra_env: Mapping[str, str] | None = None,
    http: str | None = None,
    workers: int = 1,
) -> Iterator[Stack]:
    """Start everything; on exit stop every process and drop the database, in reverse order.

    ``extra_env`` adds a scenario's deliberate setting differences; ``http`` (``h11`` or
    ``httptools``) starts the API through ``load.serve_variant`` with that HTTP parser instead
    of ``python -m app serve`` (everything else identical), to compare the two. ``workers``
    is ``serve --workers`` (the Locust curve runs with 2, one per core).
    """
    with ExitStack() as cleanup:
        admin, source = _admin_url(cleanup)
        database = f"lp_bench_{secrets.token_hex(4)}"
        urls = bootstrap(admin, database)
        cleanup.callback(lambda: asyncio.run(drop_database(admin, database)))
        admin_db = make_url(admin).set(database=database).render_as_string(hide_password=False)

        stub_port, api_port = free_port(), free_port()
        stub_url, api_url = f"http://{LOOPBACK}:{stub_port}", f"http://{LOOPBACK}:{api_port}"
        env = _server_env(urls.app, urls.migration, api_url, stub_url, extra_env)
        _cli(env, "migrate")

        stub_log = reports / f"{label}-stub.log"
        stub_proc = _spawn(
            ["model-stub", "--host", LOOPBACK, "--port", str(stub_port)], env, stub_log
        )
        cleanup.callback(stop, stub_proc)
        auth = {"Authorization": f"Bearer {STUB_API_KEY}"}
        _wait_ready(stub_proc, f"{stub_url}/v1/models", stub_log, **auth)

        server_log = reports / f"{label}-server.log"
        serve = ["serve", "--host", LOOPBACK, "--port", str(api_port), "--workers", str(workers)]
        if http is None:
            server_proc = _spawn(serve, env, server_log)
        else:
            server_proc = _spawn(
                [*serve[1:], "--http", http], env, server_log, "load.serve_variant"
            )
        cleanup.callback(stop, server_proc)
        _wait_ready(server_proc, f"{api_url}/readyz", server_log)

        yield Stack(
            database=database,
            admin_dsn=to_dsn(admin_db),
            api_url=api_url,
            stub_url=stub_url,
            server_pid=server_proc.pid,
            stub_pid=stub_proc.pid,
            server_log=server_log,
            database_server=source,
            app_database_url=urls.app,
            server_env=dict(env),
        )
