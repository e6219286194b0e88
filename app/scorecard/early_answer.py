"""A chunked POST that stops sending as soon as the server answers: proof of a refusal *while*
the body streams (an upload cap), counted like any request of the probe.

Hand-written HTTP/1.1 on purpose: httpx (and httpcore under it) writes the whole request body
before it reads any response, and uvicorn drains the unread rest of a refused body, so through
httpx an early 413 is indistinguishable from a late one. Here, before each chunk, the socket is
polled for an answer; the bytes sent until then are the evidence.
"""

from __future__ import annotations

import select
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.scorecard.context import Context

IO_TIMEOUT = 10.0
# A small send buffer keeps the client close to what the server has read, and past ``pace_after``
# bytes each chunk waits briefly for an answer: the count then measures the server, not the
# kernel's buffers (loopback buffers alone can hold megabytes).
SEND_BUFFER = 128 * 1024
PACE_SECONDS = 0.02


@dataclass(frozen=True)
class EarlyAnswer:
    status: int | None  # None: no parsable answer
    content_type: str
    sent: int  # body bytes written before the answer (or the end of the body)
    finished: bool  # the whole body was sent before any answer came


def _connect(ctx: Context) -> socket.socket:
    parts = urlsplit(ctx.options.base_url)
    host = parts.hostname or ""
    if parts.scheme == "https":
        return ctx.probe.connect_tls(host, parts.port or 443)
    ctx.probe.budget.take()
    address = ctx.probe.resolve.get(host, host)
    return socket.create_connection((address, parts.port or 80), timeout=IO_TIMEOUT)


def _answer_started(sock: socket.socket, wait: float) -> bytes | None:
    """The first bytes of an answer (``b""``: the server closed), or None when none came.

    Over TLS a readable socket may carry only protocol records (TLS 1.3 session tickets); a
    non-blocking read tells those (no application data) from the start of a response.
    """
    pending = isinstance(sock, ssl.SSLSocket) and sock.pending()
    if not pending and not select.select([sock], [], [], wait)[0]:
        return None
    sock.setblocking(False)
    try:
        return sock.recv(65536)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        return None
    finally:
        sock.settimeout(IO_TIMEOUT)


def _read_head(sock: socket.socket, data: bytes) -> bytes:
    sock.settimeout(IO_TIMEOUT)
    while b"\r\n\r\n" not in data and len(data) < 65536:
        try:
            part = sock.recv(4096)
        except OSError:
            break
        if not part:
            break
        data += part
    return data


def post_streaming(
    ctx: Context, path: str, headers: dict[str, str], body: Iterator[bytes], pace_after: int
) -> EarlyAnswer:
    parts = urlsplit(ctx.options.base_url)
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "User-Agent: launchproof-check",
        "Transfer-Encoding: chunked",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    sent = 0
    finished = False
    early: bytes | None = None
    with _connect(ctx) as sock:
        sock.settimeout(IO_TIMEOUT)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            for chunk in body:
                early = _answer_started(sock, PACE_SECONDS if sent > pace_after else 0.0)
                if early is not None:
                    break
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            else:
                sock.sendall(b"0\r\n\r\n")
                finished = True
        except OSError:  # the server closed the connection: its answer may be waiting
            pass
        head = _read_head(sock, early or b"")
    status_line, _, rest = head.partition(b"\r\n")
    words = status_line.split()
    status = int(words[1]) if len(words) >= 2 and words[1].isdigit() else None
    content_type = ""
    for line in rest.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-type":
            content_type = value.strip().decode("latin-1")
    return EarlyAnswer(status, content_type, sent, finished)
