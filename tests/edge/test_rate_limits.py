"""Rate limits per budget (C6): each fires, keys cannot be forged, and the store's failures.

Dedicated servers with tight budgets (3 a minute) against the session database. The ``proxied``
server trusts the local peer as a proxy, so each test picks its own client IP with
``X-Forwarded-For`` and the tests do not share a per-IP budget; the ``direct`` server trusts no
proxy, so every forwarding header is a forgery there. The Redis tests run their own
``redis-server`` on a free port (pausing and stopping the machine's Redis is not ours to do).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.errors import install_error_handlers
from app.core.middleware import RequestContextMiddleware
from app.core.rate_limit import STORE_TIMEOUT_SECONDS, RateLimiter, limit_webhook
from tests.factories.users import create_actor, signup, unique_email
from tests.factories.workspaces import create_workspace
from tests.servers import ServerFactory
from tests.support import (
    GENEROUS_RATE_LIMITS,
    IN_CI,
    Actor,
    Anonymous,
    Database,
    Server,
    free_port,
    start_server,
    stop_process,
    stop_server,
)

pytestmark = pytest.mark.checklist(
    "C6",
    red="remove a Budget's dependency from its route (login, signup, reset mail, keys, "
    "invitations, admin, reads, inbound webhooks), key it on a forgeable header, or let auth "
    "budgets fail open when Redis is down",
)

TIGHT = "3/minute"
LOGIN = "/v1/auth/login"
SPOOFING_HEADERS = ("X-Forwarded-For", "CF-Connecting-IP", "X-Real-IP", "True-Client-IP")


def _env(server: Server, **extra: str) -> dict[str, str]:
    return {
        **server.env,
        **dict.fromkeys(GENEROUS_RATE_LIMITS, TIGHT),
        "RATE_LIMIT_KEY_PREFIX": f"lp-edge-{secrets.token_hex(6)}",
        **extra,
    }


@pytest.fixture(scope="module")
def proxied(server: Server, server_factory: ServerFactory) -> Iterator[Server]:
    with server_factory(_env(server, TRUSTED_PROXY_CIDRS="127.0.0.1/32"), name="proxied") as srv:
        yield srv


@pytest.fixture(scope="module")
def direct(server: Server, server_factory: ServerFactory) -> Iterator[Server]:
    with server_factory(_env(server, TRUSTED_PROXY_CIDRS=""), name="direct") as srv:
        yield srv


_used: set[str] = set()


def _ip() -> str:
    """A fresh client IP (10/8 is not a trusted proxy here, so the local proxy's word is it)."""
    while True:
        candidate = ".".join(["10", *(str(secrets.randbelow(254) + 1) for _ in range(3))])
        if candidate not in _used:
            _used.add(candidate)
            return candidate


def _post(srv: Server, path: str, body: dict[str, Any], ip: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return Anonymous(srv).post(path, json=body, headers=headers)


def _login(srv: Server, email: str, ip: str | None = None) -> int:
    return _post(srv, LOGIN, {"email": email, "password": "not-the-password"}, ip).status_code


def _as(actor: Actor, srv: Server) -> Actor:
    """The same signed-in person (session cookie) talking to another server on the same DB."""
    return dataclasses.replace(actor, server=srv, workspaces=dict(actor.workspaces))


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 61


# --- Each budget fires ------------------------------------------------------------------------


def test_login_is_limited_per_client_ip(proxied: Server) -> None:
    ip = _ip()
    assert [_login(proxied, unique_email("ip"), ip) for _ in range(3)] == [401, 401, 401]
    _assert_limited(_post(proxied, LOGIN, {"email": unique_email(), "password": "x"}, ip))
    assert _login(proxied, unique_email("ip"), _ip()) == 401  # another client is unaffected


def test_login_is_limited_per_account_across_client_ips(proxied: Server) -> None:
    email = unique_email("acct")
    codes = [_login(proxied, email, _ip()) for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # The key is the normalised address: case and width variants are the same account.
    assert _login(proxied, email.upper(), _ip()) == 429
    assert _login(proxied, unique_email("acct"), _ip()) == 401


def test_signup_is_limited_per_client_ip(proxied: Server) -> None:
    ip = _ip()
    body = {"password": "pw-" + secrets.token_urlsafe(18)}
    codes = [
        _post(proxied, "/v1/auth/signup", {**body, "email": unique_email("su")}, ip).status_code
        for _ in range(4)
    ]
    assert codes == [202, 202, 202, 429]


@pytest.mark.parametrize("path", ["/v1/auth/password-reset", "/v1/auth/verify-email"])
def test_mail_requests_are_limited_per_client_ip(proxied: Server, path: str) -> None:
    ip = _ip()
    codes = [_post(proxied, path, {"email": unique_email("ip")}, ip).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]


@pytest.mark.parametrize("path", ["/v1/auth/password-reset", "/v1/auth/verify-email"])
def test_mail_requests_are_limited_per_account(proxied: Server, path: str) -> None:
    email = unique_email("acct")
    codes = [_post(proxied, path, {"email": email}, _ip()).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    assert _post(proxied, path, {"email": unique_email("other")}, _ip()).status_code == 202


def test_api_key_creation_is_limited_per_user(
    server: Server, proxied: Server, db: Database
) -> None:
    owner = create_actor(server, db, "keys")
    workspace_id = create_workspace(owner)
    here = _as(owner, proxied)
    path = f"/v1/workspaces/{workspace_id}/api-keys"
    body = {"name": "k", "scopes": ["workspace:read"]}
    assert [here.post(path, json=body).status_code for _ in range(3)] == [201, 201, 201]
    _assert_limited(here.post(path, json=body))


def test_invitations_are_limited_per_user(server: Server, proxied: Server, db: Database) -> None:
    owner = create_actor(server, db, "inviter")
    workspace_id = create_workspace(owner)
    here = _as(owner, proxied)
    path = f"/v1/workspaces/{workspace_id}/invitations"
    codes = [here.post(path, json={"email": unique_email("inv")}).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_admin_routes_are_limited_per_staff_user(proxied: Server, staff: Actor) -> None:
    here = _as(staff, proxied)  # POST: not on the read budget, so only the admin budget counts
    path = f"/v1/admin/users/{uuid.uuid4()}/suspend"
    assert [here.post(path).status_code for _ in range(4)] == [404, 404, 404, 429]


def test_reads_are_limited_per_principal(server: Server, proxied: Server, db: Database) -> None:
    reader = _as(create_actor(server, db, "reader"), proxied)
    assert [reader.get("/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    _assert_limited(reader.get("/v1/me/sessions"))  # one budget for every GET route
    other = _as(create_actor(server, db, "reader2"), proxied)
    assert other.get("/v1/me").status_code == 200


def test_webhook_budget_is_per_source_and_client_ip() -> None:
    """The inbound webhook route does not exist yet: its helper, on the project's own stack."""
    settings = Settings(
        redis_url=None,
        rate_limit_webhook="2/minute",
        rate_limit_key_prefix=f"lp-hook-{secrets.token_hex(4)}",
    )
    app = FastAPI()
    app.state.rate_limiter = RateLimiter(settings)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, trusted_proxies=[])

    async def hook_limit(request: Request, source: str) -> None:
        await limit_webhook(request, source)

    @app.post("/hooks/{source}", dependencies=[Depends(hook_limit)])
    async def hook(source: str) -> dict[str, str]:
        return {"source": source}

    with TestClient(app) as client:
        spoof = {"X-Forwarded-For": "198.51.100.7"}
        codes = [client.post("/hooks/github", headers=spoof).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert client.post("/hooks/stripe").status_code == 200  # another source


# --- Forged client IPs ------------------------------------------------------------------------


def test_forged_client_ip_headers_from_an_untrusted_peer_do_not_reset_the_ip_budget(
    direct: Server,
) -> None:
    forged: list[dict[str, str]] = [
        dict.fromkeys(SPOOFING_HEADERS, f"198.51.100.{i}")
        | {"Forwarded": f"for=198.51.100.{i};proto=https"}
        for i in range(1, 7)
    ]
    codes = [
        Anonymous(direct)
        .post(LOGIN, json={"email": unique_email("spoof"), "password": "x"}, headers=headers)
        .status_code
        for headers in forged
    ]
    assert codes == [401, 401, 401, 429, 429, 429]
    for name in (*SPOOFING_HEADERS, "Forwarded"):  # and one header at a time
        response = Anonymous(direct).post(
            LOGIN,
            json={"email": unique_email("spoof"), "password": "x"},
            headers={name: "for=192.0.2.1" if name == "Forwarded" else "192.0.2.1"},
        )
        assert response.status_code == 429, name


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
    env = _env(server, REDIS_URL=redis.url, **generous)
    with server_factory(env, log_path=tmp_path / "server.log") as srv:
        yield srv


def _timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    started = time.monotonic()
    response = call()
    return response.status_code, time.monotonic() - started


def test_a_paused_redis_bounds_the_wait_and_never_blocks_the_event_loop(
    server: Server, on_redis: Server, redis: Redis, db: Database
) -> None:
    reader = _as(create_actor(server, db, "paused"), on_redis)
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
    reader = _as(create_actor(server, db, "stopped"), on_redis)
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
    server: Server, redis: Redis, tmp_path: Path
) -> None:
    """Logins alternate between connections held by the two different worker processes."""
    shared = start_server(
        _env(server, REDIS_URL=redis.url, RATE_LIMIT_LOGIN_ACCOUNT="1000/minute"),
        tmp_path / "shared.log",
        workers=2,
    )
    try:
        codes = _alternate_logins(shared, 8)
    finally:
        stop_server(shared)
    assert codes == [401, 401, 401] + [429] * 5
    # The control: the same two workers with per-process memory storage let 3 each through.
    env = _env(server, RATE_LIMIT_LOGIN_ACCOUNT="1000/minute")
    env.pop("REDIS_URL", None)
    alone = start_server(env, tmp_path / "memory.log", workers=2)
    try:
        control = _alternate_logins(alone, 8)
    finally:
        stop_server(alone)
    assert control == [401] * 6 + [429] * 2
