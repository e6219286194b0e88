"""Helpers of the outbound HTTP tests (tests/core/test_outbound_*.py): loopback policies, a
resolver that counts its calls, and a real HTTP server on loopback with scripted handlers.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address
from types import TracebackType
from typing import Any

from app.core.config import Environment
from app.core.outbound import (
    OutboundPolicy,
)

LOOPBACK = IPv4Address("127.0.0.1")
PUBLIC = "93.184.215.14"  # only ever checked, never connected to
STRICT = OutboundPolicy(allowed_domains=frozenset({"example.com", "*.example.com"}))


class CountingResolver:
    """DNS stand-in: answers[i] for the i-th call (the last answer repeats), counting calls."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


def local_policy(*ports: int, **overrides: Any) -> OutboundPolicy:
    """A test-environment policy for allowed.example, reachable on 127.0.0.1 only."""
    settings: dict[str, Any] = {
        "environment": Environment.TEST,
        "allowed_domains": frozenset({"allowed.example"}),
        "allow_http": True,
        "allowed_ports": frozenset(ports),
        "dev_allowed_addresses": frozenset({LOOPBACK}),
        "timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return OutboundPolicy(**settings)


# --- A real HTTP server on loopback --------------------------------------------------------


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Seen, asyncio.StreamWriter], Awaitable[None]]


def reply(status: int = 200, body: bytes = b"ok", headers: Sequence[str] = ()) -> Handler:
    async def handler(_seen: Seen, writer: asyncio.StreamWriter) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", "Connection: close"]
        writer.write(("\r\n".join([*lines, *headers]) + "\r\n\r\n").encode() + body)
        await writer.drain()

    return handler


class LocalServer:
    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.handler, self.host, self.port, self.tls = handler, host, port, tls
        self.requests: list[Seen] = []
        self.connections = 0

    async def __aenter__(self) -> LocalServer:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            request_line, *lines = head.split("\r\n")
            method, target, _version = request_line.split(" ", 2)
            headers = {}
            for line in filter(None, lines):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            seen = Seen(method, target, headers, body)
            self.requests.append(seen)
            await self.handler(seen, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()
