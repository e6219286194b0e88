"""Outbound HTTP (C12): DNS answers are checked, resolved once and pinned; plain HTTP and TLS
connect to the checked address while sending (and verifying) the original name.
"""

from __future__ import annotations

import socket
import ssl
from asyncio import run
from collections.abc import Awaitable, Callable, Sequence
from ipaddress import ip_address

import pytest
import trustme

from app.core.outbound import (
    CheckedTarget,
    FailureReason,
    OutboundFailed,
    OutboundPolicy,
    OutboundRefused,
    OutboundRequest,
    OutboundResponse,
    RefusalReason,
    check_url,
    fetch,
    system_resolver,
)
from tests.core.outbound_server import (
    LOOPBACK,
    PUBLIC,
    STRICT,
    CountingResolver,
    LocalServer,
    local_policy,
    reply,
)

pytestmark = pytest.mark.checklist(
    "C12",
    red="remove a blocked address range or a URL-parser refusal from app/core/outbound, resolve "
    "twice instead of pinning the checked address, follow redirects, or drop a size or time "
    "cap",
)


# --- 5. DNS answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        [PUBLIC, "127.0.0.1"],
        ["10.0.0.7", PUBLIC],
        [PUBLIC, "169.254.169.254"],
        ["2606:4700:4700::1111", "::1"],
        [PUBLIC, "::ffff:10.0.0.1"],
        [PUBLIC, "64:ff9b::a9fe:a9fe"],
        [PUBLIC, "fe80::1%eth0"],
        ["0.0.0.0"],  # noqa: S104 (an answer to check, nothing binds)
    ],
)
def test_any_blocked_answer_refuses_the_host(answers: list[str]) -> None:
    with pytest.raises(OutboundRefused) as refused:
        run(check_url("https://example.com/", STRICT, resolver=CountingResolver(answers)))
    assert refused.value.reason is RefusalReason.BLOCKED_ADDRESS


async def _failing_resolver(host: str, port: int) -> Sequence[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


@pytest.mark.parametrize(
    "resolver", [CountingResolver([]), CountingResolver(["not-an-address"]), _failing_resolver]
)
def test_dns_failure_is_refused(resolver: Callable[[str, int], Awaitable[Sequence[str]]]) -> None:
    with pytest.raises(OutboundRefused) as refused:
        run(check_url("https://example.com/", STRICT, resolver=resolver))
    assert refused.value.reason is RefusalReason.DNS_FAILED


def test_system_resolver_answers_are_checked() -> None:
    """The default resolver (getaddrinfo) is used when none is given; localhost is blocked."""
    assert set(run(system_resolver("localhost", 443))) <= {"127.0.0.1", "::1"}
    policy = OutboundPolicy(allowed_domains=frozenset({"localhost"}))
    with pytest.raises(OutboundRefused) as refused:
        run(check_url("https://localhost/", policy))
    assert refused.value.reason is RefusalReason.BLOCKED_ADDRESS


def test_check_resolves_once_and_keeps_the_checked_answer() -> None:
    """Rebinding: the second answer (loopback) is never asked for; the checked one is kept."""
    resolver = CountingResolver([PUBLIC], ["127.0.0.1"])
    target = run(check_url("https://example.com/", STRICT, resolver=resolver))
    assert isinstance(target, CheckedTarget)
    assert target.addresses == (ip_address(PUBLIC),)
    assert resolver.calls == [("example.com", 443)]


def test_fetch_connects_to_the_checked_address_not_a_second_answer() -> None:
    """Rebinding against fetch: one resolution, and the connection goes to the checked address.

    127.0.0.1 (allowed for the test) is the first answer; every later answer is 127.0.0.2,
    where a canary listens on the same port. A client that resolved again would reach it.
    """

    async def scenario() -> None:
        async with LocalServer(reply(body=b"checked")) as checked:
            async with LocalServer(
                reply(body=b"canary"), host="127.0.0.2", port=checked.port
            ) as canary:
                resolver = CountingResolver(["127.0.0.1"], ["127.0.0.2"])
                url = f"http://rebind.allowed.example:{checked.port}/"
                policy = local_policy(
                    checked.port, allowed_domains=frozenset({"*.allowed.example"})
                )
                response = await fetch(OutboundRequest(url), policy, resolver=resolver)
                assert response.body == b"checked"
                assert response.address == LOOPBACK
                assert len(resolver.calls) == 1
                assert canary.connections == 0

    run(scenario())


# --- 6. Pinning: the IP is connected, the name is sent --------------------------------------


def test_http_request_reaches_the_pinned_address_with_the_original_host() -> None:
    async def scenario() -> None:
        async with LocalServer(reply(body=b"hello")) as server:
            url = f"http://Allowed.Example:{server.port}/path?q=1#fragment"
            response = await fetch(
                OutboundRequest(url),
                local_policy(server.port),
                resolver=CountingResolver(["127.0.0.1"]),
            )
            assert (response.status_code, response.body, response.truncated) == (
                200,
                b"hello",
                False,
            )
            [seen] = server.requests
            assert seen.headers["host"] == f"allowed.example:{server.port}"
            assert seen.target == "/path?q=1"
            assert seen.headers["accept-encoding"] == "identity"
            assert "cookie" not in seen.headers

    run(scenario())


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _tls_server(ca: trustme.CA, name: str, sni: list[str | None]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)

    def record(_sock: ssl.SSLObject, server_name: str | None, _ctx: ssl.SSLContext) -> None:
        sni.append(server_name)

    context.sni_callback = record
    return context


def _trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def test_https_pins_the_address_and_verifies_the_name(ca: trustme.CA) -> None:
    sni: list[str | None] = []

    async def scenario() -> OutboundResponse:
        tls = _tls_server(ca, "allowed.example", sni)
        async with LocalServer(reply(body=b"secure"), tls=tls) as server:
            response = await fetch(
                OutboundRequest(f"https://allowed.example:{server.port}/"),
                local_policy(server.port),
                resolver=CountingResolver(["127.0.0.1"]),
                ssl_context=_trusting(ca),
            )
            assert server.requests[0].headers["host"] == f"allowed.example:{server.port}"
            return response

    response = run(scenario())
    assert (response.status_code, response.body) == (200, b"secure")
    assert sni == ["allowed.example"]


@pytest.mark.parametrize("trusted", [True, False])
def test_https_refuses_a_certificate_for_another_name_or_an_unknown_ca(
    ca: trustme.CA, trusted: bool
) -> None:
    """A cert for other.example (trusted CA), or the right name from a CA certifi doesn't know."""

    async def scenario() -> None:
        tls = _tls_server(ca, "other.example" if trusted else "allowed.example", [])
        async with LocalServer(reply(), tls=tls) as server:
            with pytest.raises(OutboundFailed) as failed:
                await fetch(
                    OutboundRequest(f"https://allowed.example:{server.port}/"),
                    local_policy(server.port),
                    resolver=CountingResolver(["127.0.0.1"]),
                    ssl_context=_trusting(ca) if trusted else None,
                )
            assert failed.value.reason is FailureReason.TLS_FAILED
            assert server.requests == []

    run(scenario())


def test_a_tls_context_that_does_not_verify_is_rejected() -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    with pytest.raises(ValueError, match="verify"):
        run(fetch(OutboundRequest("https://example.com/"), STRICT, ssl_context=context))
