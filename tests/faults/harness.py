"""Fault injection against real processes: a private PostgreSQL, a private Redis, the API and the
worker as subprocesses, and a bounded load loop that counts answers by status.

Everything here is PRIVATE to the test run: its own data directory, its own free loopback ports.
The machine's shared PostgreSQL and Redis are never stopped, killed, frozen or reconfigured.

    pg = PrivatePostgres(); pg.start()
    db = pg.migrated_database()              # the project's two roles + the real migrations
    redis = PrivateRedis(tmp_dir); redis.start()
    api = start_api(db, redis, tmp_dir / "api.log")
    with Load(lambda c: c.get(api.url + "/v1/me", headers=...)) as load:
        pg.stop("immediate"); ...; pg.start()    # same port: the API reconnects by itself
    load.counts  # Counter of status codes (0 = transport error), load.latencies

Faults offered: ``PrivatePostgres.stop(mode)`` (``smart``/``fast``/``immediate``, pg_ctl's
shutdown modes as signals to the postmaster), ``.kill()`` (SIGKILL of the postmaster and every
backend: a host crash), ``.start()`` (same port, crash recovery when needed),
``.terminate_backends()`` (``pg_terminate_backend`` on the app's connections);
``PrivateRedis.stop()/.start()`` (same port), ``.freeze()/.thaw()`` (SIGSTOP/SIGCONT);
``kill(process)`` for the API or the worker. The fixtures in ``tests/faults/conftest.py`` wrap
these and always leave the dependency running again after a test.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.faults.private_postgres import wait_until
from tests.support import (
    ROOT,
    Database,
    Server,
    base_env,
    free_port,
    start_server,
)


class PrivateRedis:
    """One ``redis-server`` on 127.0.0.1:``port`` (fixed for its life), no persistence."""

    def __init__(self, root: Path, *, port: int | None = None) -> None:
        self.root = root
        self.port = port or free_port()
        self.log_path = root / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.frozen = False
        atexit.register(self.destroy)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15) -> None:
        if self.running:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.root)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        wait_until(self._answers, timeout, "private Redis answering PING")

    def _answers(self) -> bool:
        import redis

        try:
            client = redis.Redis(port=self.port, socket_timeout=0.5, socket_connect_timeout=0.5)
            with client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.thaw()
        self.process.terminate()
        self.process.wait(timeout=10)

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts TCP connections, nothing answers (a hung server)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)
        self.frozen = True

    def thaw(self) -> None:
        if self.frozen and self.process is not None:
            self.process.send_signal(signal.SIGCONT)
        self.frozen = False

    def destroy(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.thaw()
            self.process.kill()
            self.process.wait(timeout=10)


class TcpProxy:
    """A loopback TCP forwarder in front of a dependency, to cut connections at a chosen moment.

    ``cut_after(b"COMMIT")`` arms a one-shot trap: the next client chunk containing the pattern is
    forwarded to the server, then (once the server had ``grace`` seconds to act on it) both sides
    are closed without the server's answer reaching the client: a connection lost *during* the
    commit, whose outcome the client cannot know. ``cut_all()`` drops every open connection.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._trap: bytes | None = None
        self._muted: set[int] = set()
        self.grace = 0.3
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_after(self, pattern: bytes) -> None:
        self._trap = pattern

    def cut_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            self._close(pair)

    def close(self) -> None:
        self._listener.close()
        self.cut_all()

    @staticmethod
    def _close(pair: tuple[socket.socket, socket.socket]) -> None:
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            pair = (client, server)
            with self._lock:
                self._pairs.append(pair)
            threading.Thread(
                target=self._pump, args=(client, server, pair, True), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, pair, False), daemon=True
            ).start()

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        pair: tuple[socket.socket, socket.socket],
        upstream: bool,
    ) -> None:
        try:
            while chunk := src.recv(65536):
                trap = self._trap
                if upstream and trap is not None and trap in chunk:
                    self._trap = None
                    self._muted.add(id(pair))  # the server's answer is dropped from now on
                    dst.sendall(chunk)  # the server gets the COMMIT ...
                    time.sleep(self.grace)  # ... and acts on it ...
                    self.cuts += 1
                    with self._lock:
                        if pair in self._pairs:
                            self._pairs.remove(pair)
                    self._close(pair)  # ... the client never hears back
                    return
                if not upstream and id(pair) in self._muted:
                    continue
                dst.sendall(chunk)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


def via_proxy(db: Database, proxy: TcpProxy) -> Database:
    """``db`` whose app-role URL goes through ``proxy`` (migrations and observation do not)."""
    from sqlalchemy.engine import make_url

    app = make_url(db.app).set(port=proxy.port).render_as_string(hide_password=False)
    return Database(name=db.name, admin=db.admin, app=app, migration=db.migration)


def fault_env(db: Database, redis: PrivateRedis | None, **extra: str) -> dict[str, str]:
    """``base_env`` pointed at the private dependencies (never the machine's shared Redis)."""
    env = base_env(db, **extra)
    if redis is not None:
        env["REDIS_URL"] = redis.url
    else:
        env.pop("REDIS_URL", None)
    return env


def start_api(
    db: Database,
    redis: PrivateRedis | None,
    log_path: Path,
    overrides: dict[str, str] | None = None,
) -> Server:
    """The API (uvicorn subprocess) against the private PostgreSQL and Redis."""
    return start_server(fault_env(db, redis), log_path, overrides=overrides)


def start_worker(
    db: Database, redis: PrivateRedis | None, log_path: Path, *args: str, **extra: str
) -> subprocess.Popen[bytes]:
    """``python -m app worker [args]`` against the private dependencies."""
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "worker", *args],
        cwd=ROOT,
        env=fault_env(db, redis, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return process


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL (no cleanup, no shutdown hook) and reap."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


@dataclass
class Load:
    """A bounded loop of requests from one thread; counts answers by status.

    ``request(client)`` sends one request and returns the response; a transport error counts as
    status 0. The loop stops after ``max_requests`` or ``max_seconds`` or on ``stop()``.
    ``marks`` lets a test note when it injected a fault (``load.mark("killed")``): answers are
    recorded with their start time, so figures can exclude "the instant of a connection kill".
    """

    request: Callable[[httpx.Client], httpx.Response]
    max_requests: int = 2000
    max_seconds: float = 60.0
    pause: float = 0.01
    timeout: float = 10.0
    records: list[tuple[float, float, int, httpx.Response | None]] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Load:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)

    def mark(self, name: str) -> None:
        self.marks[name] = time.monotonic()

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(timeout=self.timeout) as client:
            for _ in range(self.max_requests):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                started = time.monotonic()
                try:
                    response: httpx.Response | None = self.request(client)
                    status = response.status_code if response is not None else 0
                except httpx.HTTPError:
                    response, status = None, 0
                self.records.append((started, time.monotonic() - started, status, response))
                time.sleep(self.pause)

    def wait_for(self, predicate: Callable[[int], bool], timeout: float = 30) -> None:
        """Block until an answer *started after now* satisfies ``predicate(status)``."""
        since = time.monotonic()
        wait_until(
            lambda: any(s >= since and predicate(st) for s, _d, st, _r in list(self.records)),
            timeout,
            "an expected answer",
        )

    @property
    def counts(self) -> Counter[int]:
        return Counter(status for _s, _d, status, _r in self.records)

    def between(self, start: str | None = None, end: str | None = None) -> list[Any]:
        lo = self.marks[start] if start else 0.0
        hi = self.marks[end] if end else float("inf")
        return [r for r in self.records if lo <= r[0] < hi]

    @property
    def max_latency(self) -> float:
        return max((d for _s, d, _st, _r in self.records), default=0.0)


def five_hundreds(records: list[Any]) -> list[Any]:
    """Answers that are 5xx other than 503 (the figure every fault test asserts is 0)."""
    return [r for r in records if r[2] >= 500 and r[2] != 503]
