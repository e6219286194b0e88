"""Outbound HTTP (C12) against real servers on loopback: redirects are returned, never followed;
size and time caps hold while reading; only harmless headers come back; proxies from the
environment are ignored; a dead address falls through to the next checked one.
"""

from __future__ import annotations

import asyncio
import socket
import time
from asyncio import run
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

import pytest

from app.core.outbound import (
    FailureReason,
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    OutboundRequest,
    OutboundResponse,
    RefusalReason,
    check_url,
    fetch,
)
from tests.core.outbound_server import (
    LOOPBACK,
    PUBLIC,
    STRICT,
    CountingResolver,
    Handler,
    LocalServer,
    Seen,
    local_policy,
    reply,
)
from tests.support import free_port

pytestmark = pytest.mark.checklist(
    "C12",
    red="remove a blocked address range or a URL-parser refusal from app/core/outbound, resolve "
    "twice instead of pinning the checked address, follow redirects, or drop a size or time "
    "cap",
)


# --- 7. Redirects, caps, timeouts ------------------------------------------------------------


def test_redirect_is_returned_not_followed() -> None:
    async def scenario() -> None:
        async with LocalServer(reply(body=b"second")) as second:
            location = f"Location: http://127.0.0.1:{second.port}/"
            async with LocalServer(reply(302, b"", [location])) as first:
                response = await fetch(
                    OutboundRequest(f"http://allowed.example:{first.port}/"),
                    local_policy(first.port, second.port),
                    resolver=CountingResolver(["127.0.0.1"]),
                )
                assert response.status_code == 302
                assert response.is_redirect
                assert response.headers["location"] == f"http://127.0.0.1:{second.port}/"
                assert second.connections == 0

    run(scenario())


@dataclass
class Stream:
    """Sends ``total`` bytes close-delimited (no Content-Length) unless ``declared``."""

    total: int
    declared: bool = False
    chunk: bytes = b"x" * 65536
    completed: bool = False

    async def __call__(self, _seen: Seen, writer: asyncio.StreamWriter) -> None:
        length = f"Content-Length: {self.total}\r\n" if self.declared else ""
        writer.write(f"HTTP/1.1 200 OK\r\n{length}Connection: close\r\n\r\n".encode())
        for _ in range(self.total // len(self.chunk)):
            writer.write(self.chunk)
            await writer.drain()
        self.completed = True


@pytest.mark.parametrize("declared", [False, True])
def test_response_past_the_cap_is_aborted_while_reading(declared: bool) -> None:
    """32 MiB offered, 64 KiB allowed: an error, and the server never gets to send it all."""
    stream = Stream(total=32 * 1024 * 1024, declared=declared)

    async def scenario() -> None:
        async with LocalServer(stream) as server:
            policy = local_policy(server.port, max_response_bytes=65536 - 1)
            with pytest.raises(OutboundFailed) as failed:
                await fetch(
                    OutboundRequest(f"http://allowed.example:{server.port}/"),
                    policy,
                    resolver=CountingResolver(["127.0.0.1"]),
                )
            assert failed.value.reason is FailureReason.RESPONSE_TOO_LARGE
            assert "x" not in str(failed.value)
            await asyncio.sleep(0.2)

    run(scenario())
    assert not stream.completed


async def _declares_32_mib_then_stalls(_seen: Seen, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 33554432\r\nConnection: close\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(30)


def test_declared_oversize_length_fails_before_the_body_arrives() -> None:
    """Content-Length past the cap fails at once, without waiting for (or reading) the body."""

    async def scenario() -> None:
        async with LocalServer(_declares_32_mib_then_stalls) as server:
            with pytest.raises(OutboundFailed) as failed:
                await fetch(
                    OutboundRequest(f"http://allowed.example:{server.port}/"),
                    local_policy(server.port, max_response_bytes=65535, timeout_seconds=3.0),
                    resolver=CountingResolver(["127.0.0.1"]),
                )
            assert failed.value.reason is FailureReason.RESPONSE_TOO_LARGE

    started = time.monotonic()
    run(scenario())
    assert time.monotonic() - started < 1.0


def test_head_response_declaring_a_large_body_is_fine() -> None:
    async def scenario() -> OutboundResponse:
        async with LocalServer(_declares_32_mib_then_stalls) as server:
            return await fetch(
                OutboundRequest(f"http://allowed.example:{server.port}/", "HEAD"),
                local_policy(server.port, max_response_bytes=65535),
                resolver=CountingResolver(["127.0.0.1"]),
            )

    response = run(scenario())
    assert (response.status_code, response.body, response.truncated) == (200, b"", False)


def test_oversize_body_can_be_truncated_instead() -> None:
    stream = Stream(total=32 * 1024 * 1024)

    async def scenario() -> OutboundResponse:
        async with LocalServer(stream) as server:
            policy = local_policy(
                server.port, max_response_bytes=100_000, truncate_oversize_body=True
            )
            return await fetch(
                OutboundRequest(f"http://allowed.example:{server.port}/"),
                policy,
                resolver=CountingResolver(["127.0.0.1"]),
            )

    response = run(scenario())
    assert (len(response.body), response.truncated) == (100_000, True)
    assert not stream.completed


def test_body_exactly_at_the_cap_is_not_truncated() -> None:
    async def scenario() -> OutboundResponse:
        async with LocalServer(reply(body=b"y" * 1000)) as server:
            return await fetch(
                OutboundRequest(f"http://allowed.example:{server.port}/"),
                local_policy(server.port, max_response_bytes=1000),
                resolver=CountingResolver(["127.0.0.1"]),
            )

    response = run(scenario())
    assert (len(response.body), response.truncated) == (1000, False)


async def _silent(_seen: Seen, _writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(30)


async def _drip(_seen: Seen, writer: asyncio.StreamWriter) -> None:
    """Headers, then one byte every 0.1 s for 4 s: no single read ever waits long."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\nConnection: close\r\n\r\n")
    for _ in range(40):
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(b"z")
    await writer.drain()


@pytest.mark.parametrize("handler", [_silent, _drip], ids=["silent", "drip"])
def test_total_time_is_capped(handler: Handler) -> None:
    async def scenario() -> float:
        async with LocalServer(handler) as server:
            started = time.monotonic()
            with pytest.raises(OutboundFailed) as failed:
                await fetch(
                    OutboundRequest(f"http://allowed.example:{server.port}/"),
                    local_policy(server.port, timeout_seconds=1.0),
                    resolver=CountingResolver(["127.0.0.1"]),
                )
            assert failed.value.reason is FailureReason.TIMEOUT
            return time.monotonic() - started

    assert run(scenario()) < 2.0


def test_slow_dns_counts_against_the_deadline() -> None:
    async def slow(host: str, port: int) -> Sequence[str]:
        await asyncio.sleep(30)
        return [PUBLIC]

    started = time.monotonic()
    policy = OutboundPolicy(allowed_domains=frozenset({"example.com"}), timeout_seconds=0.5)
    with pytest.raises(OutboundFailed) as failed:
        run(check_url("https://example.com/", policy, resolver=slow))
    assert failed.value.reason is FailureReason.TIMEOUT
    assert time.monotonic() - started < 1.5


def test_request_body_cap() -> None:
    async def scenario() -> None:
        async with LocalServer(reply()) as server:
            policy = local_policy(server.port, max_request_body_bytes=1024)
            url = f"http://allowed.example:{server.port}/hook"
            resolver = CountingResolver(["127.0.0.1"])
            with pytest.raises(OutboundRefused) as refused:
                await fetch(
                    OutboundRequest(url, "POST", content=b"a" * 1025), policy, resolver=resolver
                )
            assert refused.value.reason is RefusalReason.REQUEST_TOO_LARGE
            assert (resolver.calls, server.connections) == ([], 0)
            await fetch(
                OutboundRequest(url, "POST", content=b"b" * 1024), policy, resolver=resolver
            )
            [seen] = server.requests
            assert (seen.method, seen.body) == ("POST", b"b" * 1024)

    run(scenario())


# --- 8. Request and response headers, proxies, connection failures ------------------------


@pytest.mark.parametrize(
    ("method", "headers", "reason"),
    [
        ("TRACE", {}, RefusalReason.METHOD_NOT_ALLOWED),
        ("CONNECT", {}, RefusalReason.METHOD_NOT_ALLOWED),
        ("GET", {"Host": "internal"}, RefusalReason.HEADER_NOT_ALLOWED),
        ("GET", {"Cookie": "a=b"}, RefusalReason.HEADER_NOT_ALLOWED),
        ("GET", {"Transfer-Encoding": "chunked"}, RefusalReason.HEADER_NOT_ALLOWED),
        ("GET", {"X-A": "b\r\nHost: internal"}, RefusalReason.HEADER_NOT_ALLOWED),
        ("GET", {"Bad Name": "x"}, RefusalReason.HEADER_NOT_ALLOWED),
    ],
)
def test_request_method_and_headers_are_checked_before_dns(
    method: str, headers: dict[str, str], reason: RefusalReason
) -> None:
    resolver = CountingResolver([PUBLIC])
    with pytest.raises(OutboundRefused) as refused:
        run(
            fetch(
                OutboundRequest("https://example.com/", method, headers), STRICT, resolver=resolver
            )
        )
    assert refused.value.reason is reason
    assert resolver.calls == []


def test_only_harmless_response_headers_are_returned() -> None:
    extra = ["Content-Type: text/plain", "Set-Cookie: session=secret", "X-Internal-Token: t0k"]

    async def scenario() -> OutboundResponse:
        async with LocalServer(reply(headers=extra)) as server:
            return await fetch(
                OutboundRequest(f"http://allowed.example:{server.port}/", headers={"X-Sig": "v1"}),
                local_policy(server.port),
                resolver=CountingResolver(["127.0.0.1"]),
            )

    response = run(scenario())
    assert response.headers == {"content-type": "text/plain", "content-length": "2"}


def test_proxy_settings_from_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async with LocalServer(reply(body=b"direct")) as server, LocalServer(reply()) as proxy:
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
                monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
            for name in ("NO_PROXY", "no_proxy"):
                monkeypatch.delenv(name, raising=False)
            response = await fetch(
                OutboundRequest(f"http://allowed.example:{server.port}/"),
                local_policy(server.port),
                resolver=CountingResolver(["127.0.0.1"]),
            )
            assert response.body == b"direct"
            assert proxy.connections == 0

    run(scenario())


def test_unreachable_address_fails_and_the_next_checked_address_is_tried() -> None:
    async def scenario() -> None:
        async with LocalServer(reply(body=b"second")) as server:
            policy = local_policy(
                server.port, dev_allowed_addresses=frozenset({IPv4Address("127.0.0.3"), LOOPBACK})
            )
            url = f"http://allowed.example:{server.port}/"
            response = await fetch(
                OutboundRequest(url), policy, resolver=CountingResolver(["127.0.0.3", "127.0.0.1"])
            )
            assert (response.body, response.address) == (b"second", LOOPBACK)
            dead = free_port()
            with pytest.raises(OutboundFailed) as failed:
                await fetch(
                    OutboundRequest(f"http://allowed.example:{dead}/"),
                    local_policy(dead),
                    resolver=CountingResolver(["127.0.0.1"]),
                )
            assert failed.value.reason is FailureReason.CONNECT_FAILED

    run(scenario())


def test_ipv6_loopback_pinning_when_available() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")

    async def scenario() -> None:
        try:
            server = await LocalServer(reply(body=b"six"), host="::1").__aenter__()
        except OSError:
            pytest.skip("::1 is not configured")
        try:
            policy = local_policy(
                server.port, dev_allowed_addresses=frozenset({IPv6Address("::1")})
            )
            response = await fetch(
                OutboundRequest(f"http://allowed.example:{server.port}/"),
                policy,
                resolver=CountingResolver(["::1"]),
            )
            assert response.body == b"six"
            assert server.requests[0].headers["host"] == f"allowed.example:{server.port}"
            literal = await fetch(OutboundRequest(f"http://[::1]:{server.port}/"), policy)
            assert server.requests[1].headers["host"] == f"[::1]:{server.port}"
            assert literal.address == IPv6Address("::1")
        finally:
            await server.__aexit__(None, None, None)

    run(scenario())
