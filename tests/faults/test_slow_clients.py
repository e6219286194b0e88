"""Slow clients against a real server: trickled uploads, bodies that stop, trickled heads.

Real sockets send a few bytes per second while another client measures ``/v1/me``; the
database is observed as its superuser (``pg_stat_activity``). Every loop is bounded in time.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy.engine import make_url

from tests.factories.users import create_actor
from tests.factories.workspaces import add_member, create_workspace
from tests.support import (
    IN_CI,
    Actor,
    Database,
    Server,
    base_env,
    free_port,
    start_server,
    stop_process,
    stop_server,
)

BODY_TIMEOUT = 3
HEAD_TIMEOUT = 4
BOUNDARY = "lp-slow-boundary"
SLOW_UPLOADS = 30


def _server(db: Database, tmp_path: Path, **extra: str) -> Server:
    env = base_env(
        db,
        REQUEST_BODY_TIMEOUT_SECONDS=str(BODY_TIMEOUT),
        REQUEST_HEAD_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
        **extra,
    )
    return start_server(env, tmp_path / f"server-{secrets.token_hex(3)}.log")


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def start_redis(state: Path) -> PrivateRedis:
    binary = shutil.which("redis-server")
    if binary is None:
        if IN_CI:
            pytest.fail("redis-server is required in CI")
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=state,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    return PrivateRedis(port=port, process=process)
        except OSError:
            pass
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    own = start_redis(tmp_path)
    yield own
    if own.process.poll() is None:
        stop_process(own.process)


@pytest.fixture(scope="module")
def roomy_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    own = start_redis(tmp_path_factory.mktemp("roomy-redis"))
    yield own
    stop_process(own.process)


@pytest.fixture(scope="module")
def roomy(
    db: Database, roomy_redis: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Caps above the trickle count: every slow upload is admitted and in flight."""
    server = _server(
        db,
        tmp_path_factory.mktemp("roomy"),
        REDIS_URL=roomy_redis.url,
        UPLOAD_MAX_CONCURRENT_PER_USER="50",
        UPLOAD_MAX_CONCURRENT_PER_WORKSPACE="50",
    )
    yield server
    stop_server(server)


def streaming_uploads(server: Server, redis_url: str, ws: str) -> int:
    """Uploads of ``ws`` past authentication and quota (their transaction committed): each
    holds an upload slot from then until it ends."""
    key = f"{server.env['RATE_LIMIT_KEY_PREFIX']}:upload-slots:workspace:{ws}"
    with redis.Redis.from_url(redis_url) as store:
        return int(store.zcard(key))


def _as(actor: Actor, server: Server) -> Actor:
    actor.server = server
    return actor


def multipart(data: bytes, name: str = "notes.txt") -> tuple[bytes, bytes]:
    """(part head, rest): the rest is what a slow client trickles."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    return head, data + f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class SlowUpload:
    sock: socket.socket
    rest: bytes

    def trickle(self, count: int) -> None:
        sent, self.rest = self.rest[:count], self.rest[count:]
        if sent:
            self.sock.sendall(sent)

    def finish(self) -> int:
        """Send what is left and read the status code (the server answers at once)."""
        self.sock.sendall(self.rest)
        self.rest = b""
        self.sock.settimeout(15)
        return status_of(self.sock)


def status_of(sock: socket.socket) -> int:
    reply = b""
    while b"\r\n" not in reply:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else 0


def read_reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    return reply


def start_upload(actor: Actor, ws: str, data: bytes, *, sent: int = 0) -> SlowUpload:
    server = make_url(actor.server.url)
    head, rest = multipart(data)
    request_head = (
        f"POST /v1/workspaces/{ws}/files HTTP/1.1\r\n"
        f"Host: {server.host}:{server.port}\r\n"
        f"Origin: {actor.server.origin}\r\n"
        f"Cookie: {actor.cookie_name}={actor.cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(head) + len(rest)}\r\n\r\n"
    ).encode()
    sock = socket.create_connection((server.host, server.port), timeout=10)
    sock.sendall(request_head + head + rest[:sent])
    return SlowUpload(sock=sock, rest=rest[sent:])


def me_latencies(actor: Actor, seconds: float) -> list[float]:
    """``/v1/me`` from another client, back to back; a request past 5 s counts as 5 s."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=actor.server.url, headers=actor.headers(), timeout=5) as client:
        with contextlib.suppress(httpx.TimeoutException):
            client.get("/v1/me")  # connect first: the figure is the server's, not the handshake's
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                ok = client.get("/v1/me").status_code == 200
            except httpx.TimeoutException:
                ok = False
            latencies.append(time.monotonic() - started if ok else 5.0)
            time.sleep(0.05)
    return latencies


def p95(values: list[float]) -> float:
    if len(values) < 2:  # every read timed out: no figure but the worst
        return max(values, default=float("inf"))
    return statistics.quantiles(values, n=20)[-1]


def idle_in_transaction(db: Database) -> int:
    role = make_url(db.app).username
    return int(
        db.scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s "
            "AND state LIKE 'idle in transaction%%'",
            db.name,
            role,
        )
    )


class Trickler:
    """Sends a few bytes per second on every slow upload from a thread, until stopped."""

    def __init__(self, uploads: list[SlowUpload], *, interval: float = 0.5, size: int = 2) -> None:
        self.uploads = uploads
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(interval, size), daemon=True)

    def _run(self, interval: float, size: int) -> None:
        while not self.stop.wait(interval):
            for upload in self.uploads:
                if len(upload.rest) > size:  # keep the end for finish()
                    upload.trickle(size)

    def __enter__(self) -> Trickler:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def test_thirty_trickled_uploads_hold_no_connection_and_do_not_slow_others(
    roomy: Server, roomy_redis: PrivateRedis, db: Database
) -> None:
    owner = _as(create_actor(roomy, db, "trickler"), roomy)
    reader = _as(create_actor(roomy, db, "reader"), roomy)
    ws = create_workspace(owner)
    uploads = [start_upload(owner, ws, b"slow words " * 20, sent=5) for _ in range(SLOW_UPLOADS)]
    try:
        with Trickler(uploads):
            deadline = time.monotonic() + 15  # every upload past authentication, streaming
            while (
                started := streaming_uploads(roomy, roomy_redis.url, ws)
            ) < SLOW_UPLOADS and time.monotonic() < deadline:
                time.sleep(0.1)
            stuck = []
            latencies: list[float] = []
            for _ in range(4):
                stuck.append(idle_in_transaction(db))
                latencies += me_latencies(reader, 1.5)
            stuck.append(idle_in_transaction(db))
        statuses = [upload.finish() for upload in uploads]
    finally:
        for upload in uploads:
            upload.sock.close()
    print(  # noqa: T201 - the figures docs/reliability.md quotes (pytest -s)
        f"{started} slow uploads: /v1/me p95 {p95(latencies) * 1000:.1f} ms over "
        f"{len(latencies)} reads, idle in transaction {stuck}, statuses {set(statuses)}"
    )
    assert max(stuck) == 0, f"app connections idle in transaction during the trickle: {stuck}"
    assert p95(latencies) < 0.1, f"/v1/me p95 {p95(latencies):.3f}s over {len(latencies)} reads"
    assert started == SLOW_UPLOADS, f"only {started} slow uploads got past authentication"
    # They were all alive and admitted the whole time: each one completes and is stored.
    assert statuses == [201] * SLOW_UPLOADS
    assert db.scalar("SELECT count(*) FROM file WHERE workspace_id = %s", ws) == SLOW_UPLOADS


@pytest.mark.parametrize(
    ("change", "expected"), [("remove", 404), ("viewer", 403)], ids=["removed", "demoted"]
)
def test_the_record_is_written_with_the_permissions_of_its_end(
    roomy: Server, db: Database, change: str, expected: int
) -> None:
    """The connection is released while the body arrives, so the final transaction checks the
    caller again: a member removed (or made a viewer) mid-upload stores nothing."""
    owner = _as(create_actor(roomy, db, "mid-owner"), roomy)
    ws = create_workspace(owner)
    member = add_member(roomy, db, owner, ws, "member")
    slow = start_upload(member, ws, b"written while a member " * 5, sent=5)
    try:
        time.sleep(0.5)
        path = f"/v1/workspaces/{ws}/members/{member.user_id}"
        if change == "remove":
            assert owner.delete(path).status_code == 204
        else:
            assert owner.patch(path, json={"role": "viewer"}).status_code == 200
        status = slow.finish()
    finally:
        slow.sock.close()
    assert status == expected
    assert db.scalar("SELECT count(*) FROM file WHERE workspace_id = %s", ws) == 0
    stored = Path(roomy.env["STORAGE_LOCAL_DIR"]) / ws
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))


def test_a_body_that_stops_arriving_gets_408_and_leaves_nothing(
    roomy: Server, db: Database
) -> None:
    owner = _as(create_actor(roomy, db, "stopper"), roomy)
    ws = create_workspace(owner)
    stalled = start_upload(owner, ws, b"half a file " * 10, sent=10)
    started = time.monotonic()
    try:
        reply = read_reply(stalled.sock)  # the server answers, then closes the connection
    finally:
        stalled.sock.close()
    waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert b"application/problem+json" in reply
    assert b'"code":"request_timeout"' in reply
    assert BODY_TIMEOUT - 0.5 < waited < BODY_TIMEOUT + 3
    assert db.scalar("SELECT count(*) FROM file WHERE workspace_id = %s", ws) == 0
    assert "Traceback" not in roomy.log_text()


def test_every_route_with_a_body_has_the_timeout(roomy: Server, db: Database) -> None:
    """A JSON route too: half a body, then silence."""
    owner = _as(create_actor(roomy, db, "json-stopper"), roomy)
    server = make_url(roomy.url)
    body = b'{"name": "A workspace that never finishes"}'
    head = (
        f"POST /v1/workspaces HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
        f"Origin: {roomy.origin}\r\nCookie: {owner.cookie_name}={owner.cookie}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((server.host, server.port), timeout=15) as sock:
        sock.sendall(head + body[:10])
        reply = read_reply(sock)
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:200]
    assert b'"code":"request_timeout"' in reply


def test_slow_request_heads_do_not_starve_other_clients(roomy: Server, db: Database) -> None:
    """200 connections trickling their request heads: uvicorn parses each as it comes, on the
    event loop, so others are served at full speed meanwhile."""
    reader = _as(create_actor(roomy, db, "head-reader"), roomy)
    server = make_url(roomy.url)
    head = f"GET /v1/me HTTP/1.1\r\nHost: {server.host}:{server.port}\r\nX-Slow: ".encode()
    slow = [socket.create_connection((server.host, server.port), timeout=5) for _ in range(200)]
    try:
        for sock in slow:
            sock.sendall(head)
        latencies: list[float] = []
        for _ in range(4):
            for sock in slow:
                with contextlib.suppress(OSError):  # closed by the head timeout: fine too
                    sock.sendall(b"a")
            latencies += me_latencies(reader, 0.5)
        assert p95(latencies) < 0.1, f"/v1/me p95 {p95(latencies):.3f}s"
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.parametrize("trickle", [True, False], ids=["trickled-head", "silent-connection"])
def test_a_request_head_that_never_completes_is_closed(roomy: Server, trickle: bool) -> None:
    """uvicorn alone keeps such a connection for ever; the head deadline answers 408 and closes
    it, however steadily the bytes keep coming."""
    server = make_url(roomy.url)
    with socket.create_connection((server.host, server.port), timeout=1) as sock:
        if trickle:
            sock.sendall(f"GET /v1/me HTTP/1.1\r\nHost: {server.host}\r\nX-Slow: ".encode())
        started = time.monotonic()
        reply = b""
        while time.monotonic() - started < HEAD_TIMEOUT + 5:
            try:
                if trickle:
                    sock.sendall(b"a")
                chunk = sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            reply += chunk
        waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 "), reply[:100]
    assert waited < HEAD_TIMEOUT + 3


# --- Concurrent upload caps -------------------------------------------------------------------


CAPS = {
    "UPLOAD_MAX_CONCURRENT_PER_USER": "2",
    "UPLOAD_MAX_CONCURRENT_PER_WORKSPACE": "3",
    "UPLOAD_SLOT_LEASE_SECONDS": "5",
}


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert int(response.headers["retry-after"]) >= 1


def _upload(actor: Actor, ws: str) -> httpx.Response:
    return actor.post(
        f"/v1/workspaces/{ws}/files", files={"file": ("ok.txt", b"fast words\n", "text/plain")}
    )


def test_concurrent_uploads_are_capped_per_user_and_per_workspace(
    db: Database, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    server = _server(db, tmp_path, REDIS_URL=private_redis.url, **CAPS)
    try:
        owner = _as(create_actor(server, db, "capped"), server)
        ws = create_workspace(owner)
        member = add_member(server, db, owner, ws, "member")
        held = [start_upload(owner, ws, b"slow " * 40) for _ in range(2)]
        time.sleep(0.5)
        _refused(_upload(owner, ws), 429, "too_many_uploads")  # the user's two slots are taken
        held.append(start_upload(member, ws, b"slow " * 40))
        with Trickler(held):
            # Past one lease: the slots of uploads still running are renewed, not lapsed.
            time.sleep(int(CAPS["UPLOAD_SLOT_LEASE_SECONDS"]) + 1.5)
            _refused(_upload(member, ws), 429, "too_many_uploads")  # the workspace's three are
            _refused(_upload(owner, ws), 429, "too_many_uploads")
        for upload in held:
            upload.sock.close()  # hung up: the slots come back at once
        time.sleep(0.5)
        assert _upload(member, ws).status_code == 201
        assert _upload(owner, ws).status_code == 201
    finally:
        stop_server(server)


def test_a_killed_process_does_not_keep_its_upload_slots(
    db: Database, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    caps = {**CAPS, "UPLOAD_MAX_CONCURRENT_PER_USER": "1"}
    env = base_env(db, REDIS_URL=private_redis.url, REQUEST_BODY_TIMEOUT_SECONDS="30", **caps)
    server = start_server(env, tmp_path / "first.log")
    owner = _as(create_actor(server, db, "killed"), server)
    ws = create_workspace(owner)
    held = start_upload(owner, ws, b"slow " * 10)
    time.sleep(0.5)
    os.kill(server.process.pid, signal.SIGKILL)  # the slot is never released
    server.process.wait(timeout=10)
    held.sock.close()
    key = f"{env['RATE_LIMIT_KEY_PREFIX']}:upload-slots:user:{owner.user_id}"
    with redis.Redis.from_url(private_redis.url) as store:
        assert store.zcard(key) == 1  # left behind by the dead process, with its lease
        again = start_server(env, tmp_path / "second.log")
        try:
            owner = _as(owner, again)
            deadline = time.monotonic() + int(CAPS["UPLOAD_SLOT_LEASE_SECONDS"]) + 3
            while (response := _upload(owner, ws)).status_code == 429:
                _refused(response, 429, "too_many_uploads")
                assert time.monotonic() < deadline, "the dead process's slot never lapsed"
                time.sleep(0.5)
            assert response.status_code == 201, response.text
            assert store.zcard(key) == 0
        finally:
            stop_server(again)


def test_uploads_answer_503_with_retry_after_while_redis_is_down(
    db: Database, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    server = _server(db, tmp_path, REDIS_URL=private_redis.url, **CAPS)
    try:
        owner = _as(create_actor(server, db, "no-redis"), server)
        ws = create_workspace(owner)
        stop_process(private_redis.process)
        response = _upload(owner, ws)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert int(response.headers["retry-after"]) >= 1
        assert db.scalar("SELECT count(*) FROM file WHERE workspace_id = %s", ws) == 0
    finally:
        stop_server(server)


def test_the_slot_store_down_is_a_503_with_retry_after(private_redis: PrivateRedis) -> None:
    """The slots themselves fail closed when Redis is gone (the rate budget before them too)."""
    import asyncio
    import uuid

    from app.core.config import Settings
    from app.files.errors import UploadSlotsUnavailable
    from app.files.upload_slots import UploadSlots

    async def scenario() -> None:
        slots = UploadSlots(Settings(redis_url=private_redis.url))
        async with slots.hold(uuid.uuid4(), uuid.uuid4()):
            pass  # up: a slot is taken and given back
        stop_process(private_redis.process)
        try:
            async with slots.hold(uuid.uuid4(), uuid.uuid4()):
                pass
        finally:
            await slots.close()

    with pytest.raises(UploadSlotsUnavailable) as refused:
        asyncio.run(scenario())
    assert refused.value.status_code == 503
    assert int(refused.value.headers["Retry-After"]) >= 1
