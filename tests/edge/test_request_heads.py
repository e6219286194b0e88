"""Request heads are capped while they arrive, not after (C7, docs/performance.md "HTTP parser").

uvicorn with plain httptools buffers a head of any size and hands it to the application, whose
431 (``app/core/body_limit.py``) then comes too late: the memory is spent. The served protocol
(``app/core/guarded_httptools.py``, app/serve.py) refuses a head past 16 KiB while it arrives
with 431. These tests send heads the way an attacker would, over a raw socket, and measure how
much the server took before it refused.
"""

from __future__ import annotations

import contextlib
import json
import socket

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.support import Server

pytestmark = pytest.mark.checklist(
    "C7",
    red="serve plain httptools (http='httptools' in app/serve.py) or drop the head count in "
    "GuardedHttpToolsProtocol.data_received",
)

MIB = 1_048_576
HUGE = 16 * MIB
CHUNK = 64 * 1024


def _push_head(server: Server, line: bytes) -> tuple[int, bytes]:
    """Send a request head with one header growing towards ``HUGE``; return how many bytes went
    out before the server cut the connection, and whatever reply it wrote."""
    url = make_url(server.url)
    sock = socket.create_connection((url.host, url.port), timeout=10)
    sent = 0
    with sock:
        head = f"GET /healthz HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n".encode() + line
        try:
            sock.sendall(head)
            sent = len(head)
            filler = b"a" * CHUNK
            while sent < HUGE:
                sock.sendall(filler)
                sent += CHUNK
            sock.sendall(b"\r\n\r\n")
        except OSError:  # EPIPE / ECONNRESET: the server closed the connection on us
            pass
        reply = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                reply += chunk
    return sent, reply


@pytest.mark.parametrize("line", [b"X-Big: ", b"X-Many-0: a\r\n" * 1 + b"X-Many-1: "])
def test_a_huge_request_head_is_cut_off_while_it_arrives(server: Server, line: bytes) -> None:
    sent, reply = _push_head(server, line)
    # Refused long before the 16 MiB were accepted (plain httptools takes all of it: sent == HUGE).
    assert sent < HUGE // 2, f"the server took {sent} bytes of head before refusing"
    if reply:  # the reply may be lost to the reset; when it arrives it is the 431 problem
        status, _, rest = reply.partition(b"\r\n")
        assert status.startswith(b"HTTP/1.1 431 "), reply[:200]
        body = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert body["code"] == "headers_too_large"
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200


def test_many_headers_past_the_cap_are_refused(server: Server) -> None:
    """Thousands of small headers, as one burst: the same cap counts them all."""
    url = make_url(server.url)
    headers = b"".join(b"X-H-%d: v\r\n" % n for n in range(4000))  # about 40 KiB
    with socket.create_connection((url.host, url.port), timeout=10) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {url.host}\r\n".encode() + headers + b"\r\n")
        reply = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                reply += chunk
    assert reply.startswith((b"HTTP/1.1 431 ", b"HTTP/1.1 400 ")), reply[:200]


def test_a_large_body_after_a_small_head_is_not_mistaken_for_a_head(server: Server) -> None:
    """The head count stops at the end of the head: a 64 KiB body in the same read passes."""
    response = httpx.post(
        server.url + "/v1/auth/login",
        content=b'{"email": "nobody@example.com", "password": "' + b"p" * 60_000 + b'"}',
        headers={"Content-Type": "application/json", "Origin": server.url},
        timeout=10,
    )
    assert response.status_code in (401, 413, 422, 429), response.text[:200]
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_body_left_unread_after_an_early_answer_is_not_counted_as_a_head(
    server: Server,
) -> None:
    """A 404 answered before its 512 KiB body was read: the rest of that body still arrives and
    is discarded, and the connection serves the next request (the body is not a head)."""
    url = make_url(server.url)
    body = b"x" * (512 * 1024)
    first = (
        f"POST /v1/no-such-route HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n"
        f"Content-Type: application/octet-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    second = f"GET /healthz HTTP/1.1\r\nHost: {url.host}:{url.port}\r\n\r\n".encode()
    with socket.create_connection((url.host, url.port), timeout=10) as sock:
        sock.sendall(first)
        reply = sock.recv(65536)  # the early answer, before the body is sent
        assert reply.startswith(b"HTTP/1.1 404 "), reply[:200]
        for start in range(0, len(body), CHUNK):
            sock.sendall(body[start : start + CHUNK])
        sock.sendall(second)
        with contextlib.suppress(OSError):
            while reply.count(b"HTTP/1.1 ") < 2 or not reply.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
    answers = [b"HTTP/1.1 " + part for part in reply.split(b"HTTP/1.1 ")[1:]]
    assert [a[:13] for a in answers] == [b"HTTP/1.1 404 ", b"HTTP/1.1 200 "], reply[-400:]
