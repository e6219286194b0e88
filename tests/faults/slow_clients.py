"""Slow clients' tools: a server with short body and head timeouts, a private Redis, uploads whose
bodies trickle over real sockets, and the latency and database observations the tests judge.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy.engine import make_url

from tests.support import (
    IN_CI,
    Actor,
    Database,
    Server,
    base_env,
    free_port,
    start_server,
)

BODY_TIMEOUT = 3
HEAD_TIMEOUT = 4
BOUNDARY = "lp-slow-boundary"
SLOW_UPLOADS = 30


def timeout_server(db: Database, tmp_path: Path, **extra: str) -> Server:
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


def streaming_uploads(server: Server, redis_url: str, ws: str) -> int:
    """Uploads of ``ws`` past authentication and quota (their transaction committed): each
    holds an upload slot from then until it ends."""
    key = f"{server.env['RATE_LIMIT_KEY_PREFIX']}:upload-slots:workspace:{ws}"
    with redis.Redis.from_url(redis_url) as store:
        return int(store.zcard(key))


def on_server(actor: Actor, server: Server) -> Actor:
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
