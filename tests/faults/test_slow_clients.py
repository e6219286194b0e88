"""Slow clients against a real server: trickled uploads, bodies that stop, trickled heads.

Real sockets send a few bytes per second while another client measures ``/v1/me``; the
database is observed as its superuser (``pg_stat_activity``). Every loop is bounded in time.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.factories.users import create_actor
from tests.factories.workspaces import add_member, create_workspace
from tests.faults.slow_clients import (
    BODY_TIMEOUT,
    HEAD_TIMEOUT,
    SLOW_UPLOADS,
    PrivateRedis,
    Trickler,
    idle_in_transaction,
    me_latencies,
    on_server,
    p95,
    read_reply,
    start_redis,
    start_upload,
    streaming_uploads,
    timeout_server,
)
from tests.support import (
    Database,
    Server,
    stop_process,
    stop_server,
)


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
    server = timeout_server(
        db,
        tmp_path_factory.mktemp("roomy"),
        REDIS_URL=roomy_redis.url,
        UPLOAD_MAX_CONCURRENT_PER_USER="50",
        UPLOAD_MAX_CONCURRENT_PER_WORKSPACE="50",
    )
    yield server
    stop_server(server)


def test_thirty_trickled_uploads_hold_no_connection_and_do_not_slow_others(
    roomy: Server, roomy_redis: PrivateRedis, db: Database
) -> None:
    owner = on_server(create_actor(roomy, db, "trickler"), roomy)
    reader = on_server(create_actor(roomy, db, "reader"), roomy)
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
    owner = on_server(create_actor(roomy, db, "mid-owner"), roomy)
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
    owner = on_server(create_actor(roomy, db, "stopper"), roomy)
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
    owner = on_server(create_actor(roomy, db, "json-stopper"), roomy)
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
    reader = on_server(create_actor(roomy, db, "head-reader"), roomy)
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
