"""Rate limits when the limit store misbehaves (C6): a Redis of our own, paused, stopped, or shared
by two worker processes. The budgets themselves are tested in tests/edge/test_rate_limits.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from app.core.rate_limit import STORE_TIMEOUT_SECONDS
from tests.edge.rate_limits import LOGIN, as_on, tight_env
from tests.factories.users import create_actor, signup, unique_email
from tests.servers import ServerFactory
from tests.support import (
    GENEROUS_RATE_LIMITS,
    IN_CI,
    Anonymous,
    Database,
    Server,
    free_port,
    stop_process,
)

# --- A Redis of our own: paused, stopped, shared by two workers -----------------------------


@dataclasses.dataclass
class Redis:
    url: str
    port: int
    process: subprocess.Popen[bytes]

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return done.stdout.strip()

    def answers_within(self, seconds: float) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=seconds) as probe:
            probe.sendall(b"PING\r\n")
            try:
                return probe.recv(16).startswith(b"+PONG")
            except TimeoutError:
                return False


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    port = free_port()
    log = (tmp_path / "redis.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--enable-debug-command",
            "local",
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    own = Redis(url=f"redis://127.0.0.1:{port}/0", port=port, process=process)
    deadline = time.monotonic() + 10
    while own.cli("PING") != "PONG":
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    yield own
    if process.poll() is None:
        stop_process(process)


@pytest.fixture
def on_redis(
    server: Server, server_factory: ServerFactory, redis: Redis, tmp_path: Path
) -> Iterator[Server]:
    generous = dict.fromkeys(GENEROUS_RATE_LIMITS, "1000/minute")
    env = tight_env(server, REDIS_URL=redis.url, **generous)
    with server_factory(env, log_path=tmp_path / "server.log") as srv:
        yield srv


def _timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    started = time.monotonic()
    response = call()
    return response.status_code, time.monotonic() - started


def test_a_paused_redis_bounds_the_wait_and_never_blocks_the_event_loop(
    server: Server, on_redis: Server, redis: Redis, db: Database
) -> None:
    reader = as_on(create_actor(server, db, "paused"), on_redis)
    anon = Anonymous(on_redis)
    assert reader.get("/v1/me").status_code == 200  # the connection pool is warm
    paused = socket.create_connection(("127.0.0.1", redis.port), timeout=5)
    paused.sendall(b"DEBUG SLEEP 2\r\n")  # Redis is single-threaded: it answers no one now
    time.sleep(0.1)
    assert not redis.answers_within(0.2)
    with ThreadPoolExecutor(max_workers=3) as pool:
        login = pool.submit(
            _timed, lambda: anon.post(LOGIN, json={"email": unique_email(), "password": "x"})
        )
        read = pool.submit(_timed, lambda: reader.get("/v1/me"))
        time.sleep(0.05)
        health = pool.submit(_timed, lambda: anon.get("/healthz"))
        results = login.result(), read.result(), health.result()
    assert paused.recv(16).startswith(b"+OK")  # the pause covered every request above
    paused.close()
    (login_code, login_s), (read_code, read_s), (health_code, health_s) = results
    assert health_s < 0.5, health_s  # answered while both limited requests waited on Redis
    limit = STORE_TIMEOUT_SECONDS + 0.7  # the store timeout plus request overhead, far below 2 s
    assert login_s < limit, login_s
    assert read_s < limit, read_s
    assert (login_code, read_code, health_code) == (503, 200, 200)  # closed / open / unlimited


def test_a_stopped_redis_fails_auth_closed_and_reads_open(
    server: Server, on_redis: Server, redis: Redis, db: Database
) -> None:
    email, password = signup(server, db)
    reader = as_on(create_actor(server, db, "stopped"), on_redis)
    stop_process(redis.process)
    refused = Anonymous(on_redis).post(LOGIN, json={"email": email, "password": password})
    assert refused.status_code == 503
    assert refused.json()["code"] == "rate_limit_unavailable"
    assert "set-cookie" not in refused.headers
    assert reader.get("/v1/me").status_code == 200
    log = on_redis.log_text()
    assert "rate limit store unavailable; allowing" in log
    assert "fail_open_total" in log


def _workers(srv: Server) -> list[int]:
    """The supervisor's child processes (uvicorn workers, plus any helper it spawned)."""
    pid = srv.process.pid
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _serving_pid(srv: Server, client: httpx.Client) -> int | None:
    """Which process holds the server end of ``client``'s kept-alive connection (Linux /proc)."""
    response = client.get(srv.url + "/healthz")
    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    server_port = int(srv.url.rsplit(":", 1)[1])
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            inode = fields[9]
    for pid in _workers(srv):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
    return None


@contextlib.contextmanager
def _one_client_per_worker(srv: Server) -> Iterator[list[httpx.Client]]:
    """Open kept-alive connections until two different workers hold one each."""
    opened: list[httpx.Client] = []
    by_pid: dict[int, httpx.Client] = {}
    try:
        while len(by_pid) < 2 and len(opened) < 200:
            client = httpx.Client(headers={"Origin": srv.origin}, timeout=30)
            opened.append(client)
            pid = _serving_pid(srv, client)
            if pid is not None:
                by_pid.setdefault(pid, client)
        assert len(by_pid) == 2, "could not reach both workers"
        yield list(by_pid.values())
    finally:
        for client in opened:
            client.close()


def _alternate_logins(srv: Server, attempts: int) -> list[int]:
    with _one_client_per_worker(srv) as (first, second):
        return [
            (first if i % 2 == 0 else second)
            .post(srv.url + LOGIN, json={"email": unique_email("w"), "password": "x"})
            .status_code
            for i in range(attempts)
        ]


def test_two_workers_share_one_budget_in_redis(
    server_factory: ServerFactory, server: Server, redis: Redis, tmp_path: Path
) -> None:
    """Logins alternate between connections held by the two different worker processes."""
    with server_factory(
        tight_env(server, REDIS_URL=redis.url, RATE_LIMIT_LOGIN_ACCOUNT="1000/minute"),
        log_path=tmp_path / "shared.log",
        workers=2,
    ) as shared:
        codes = _alternate_logins(shared, 8)
    assert codes == [401, 401, 401] + [429] * 5
    # The control: the same two workers with per-process memory storage let 3 each through.
    env = tight_env(server, RATE_LIMIT_LOGIN_ACCOUNT="1000/minute")
    env.pop("REDIS_URL", None)
    with server_factory(env, log_path=tmp_path / "memory.log", workers=2) as alone:
        control = _alternate_logins(alone, 8)
    assert control == [401] * 6 + [429] * 2
