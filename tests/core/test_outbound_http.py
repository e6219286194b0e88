"""The outbound HTTP guard (C12 fetch tool, outgoing webhooks) refuses every SSRF route we know.

Nothing here mocks ``app.core.outbound``. DNS is replaced by a resolver callable (a stand-in for
the DNS server, counting its calls); every connection goes to a real server on loopback started
by the test (``asyncio.start_server``, TLS from a ``trustme`` CA), reached only because the
test's policy allows that loopback address explicitly. Addresses outside loopback appear only in
checks that never connect.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from asyncio import run
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from types import TracebackType
from typing import Any

import pytest
import trustme

from app.core.config import Environment, Settings
from app.core.outbound import (
    CheckedTarget,
    FailureReason,
    OutboundFailed,
    OutboundPolicy,
    OutboundPolicyError,
    OutboundRefused,
    OutboundRequest,
    OutboundResponse,
    RefusalReason,
    blocked_reason,
    check_url,
    fetch,
    normalise_allowed_domain,
    policy_for,
    system_resolver,
)
from app.core.outbound.addresses import parse_ipv4
from tests.support import free_port

pytestmark = pytest.mark.checklist(
    "C12",
    red="remove a blocked address range or a URL-parser refusal from app/core/outbound, resolve "
    "twice instead of pinning the checked address, follow redirects, or drop a size or time "
    "cap",
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


# --- 1. Malicious URL spellings ------------------------------------------------------------

MALICIOUS_URLS: list[tuple[str, RefusalReason]] = [
    # scheme
    ("http://example.com/", RefusalReason.SCHEME_NOT_ALLOWED),  # http off in this policy
    ("ftp://example.com/", RefusalReason.SCHEME_NOT_ALLOWED),
    ("file:///etc/passwd", RefusalReason.SCHEME_NOT_ALLOWED),
    ("gopher://example.com:70/_SLAVEOF", RefusalReason.SCHEME_NOT_ALLOWED),
    ("dict://example.com:11211/stat", RefusalReason.SCHEME_NOT_ALLOWED),
    ("javascript:alert(1)", RefusalReason.SCHEME_NOT_ALLOWED),
    ("data:text/plain,hi", RefusalReason.SCHEME_NOT_ALLOWED),
    ("//example.com/", RefusalReason.SCHEME_NOT_ALLOWED),
    ("https:example.com", RefusalReason.INVALID_URL),
    # credentials and authority confusion
    ("https://user:pass@example.com/", RefusalReason.USERINFO),
    ("https://user@example.com/", RefusalReason.USERINFO),
    ("https://example.com@127.0.0.1/", RefusalReason.USERINFO),
    ("https://example.com:443@evil.net/", RefusalReason.USERINFO),
    ("https://evil.net#@example.com/", RefusalReason.HOST_NOT_ALLOWED),
    ("https://evil.net?@example.com/", RefusalReason.HOST_NOT_ALLOWED),
    ("https://example.com\\@evil.net/", RefusalReason.INVALID_URL),
    ("https://evil.net\\.example.com/", RefusalReason.INVALID_URL),
    # IPv4 literals in every spelling
    ("https://127.0.0.1/", RefusalReason.IP_LITERAL),
    ("https://2130706433/", RefusalReason.IP_LITERAL),
    ("https://0x7f000001/", RefusalReason.IP_LITERAL),
    ("https://0x7f.0.0.1/", RefusalReason.IP_LITERAL),
    ("https://0x7f.1/", RefusalReason.IP_LITERAL),
    ("https://0177.0.0.1/", RefusalReason.IP_LITERAL),
    ("https://017700000001/", RefusalReason.IP_LITERAL),
    ("https://127.1/", RefusalReason.IP_LITERAL),
    ("https://127.0.1/", RefusalReason.IP_LITERAL),
    ("https://0/", RefusalReason.IP_LITERAL),
    ("https://0.0.0.0/", RefusalReason.IP_LITERAL),
    ("https://127.0.0.1./", RefusalReason.IP_LITERAL),
    ("https://169.254.169.254/latest/meta-data/", RefusalReason.IP_LITERAL),
    ("https://8.8.8.8/", RefusalReason.IP_LITERAL),  # public, still not a name
    ("https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/", RefusalReason.IP_LITERAL),  # fullwidth
    ("https://127\u30020\u30020\u30021/", RefusalReason.IP_LITERAL),  # ideographic full stop
    ("https://999.999.999.999/", RefusalReason.IP_LITERAL),
    ("https://1.2.3.4.5/", RefusalReason.IP_LITERAL),
    ("https://example.0x7f/", RefusalReason.IP_LITERAL),
    # IPv6 literals
    ("https://[::1]/", RefusalReason.IP_LITERAL),
    ("https://[::]/", RefusalReason.IP_LITERAL),
    ("https://[::ffff:127.0.0.1]/", RefusalReason.IP_LITERAL),
    ("https://[::ffff:7f00:1]/", RefusalReason.IP_LITERAL),
    ("https://[0:0:0:0:0:ffff:127.0.0.1]/", RefusalReason.IP_LITERAL),
    ("https://[::127.0.0.1]/", RefusalReason.IP_LITERAL),
    ("https://[64:ff9b::7f00:1]/", RefusalReason.IP_LITERAL),
    ("https://[fd00:ec2::254]/", RefusalReason.IP_LITERAL),
    ("https://[fe80::1%25eth0]/", RefusalReason.IP_LITERAL),
    ("https://[v1.fe]/", RefusalReason.INVALID_URL),
    ("https://[::1/", RefusalReason.INVALID_URL),
    # host names
    ("https://localhost/", RefusalReason.HOST_NOT_ALLOWED),
    ("https://evil-example.com/", RefusalReason.HOST_NOT_ALLOWED),
    ("https://example.com.evil.net/", RefusalReason.HOST_NOT_ALLOWED),
    ("https://ex\u0430mple.com/", RefusalReason.HOST_NOT_ALLOWED),  # Cyrillic a
    ("https://example%2Ecom/", RefusalReason.INVALID_URL),
    ("https://exam\u200bple.com/", RefusalReason.INVALID_URL),  # zero-width space
    ("https://a..example.com/", RefusalReason.INVALID_URL),
    ("https://-x.example.com/", RefusalReason.INVALID_URL),
    ("https://under_score.example.com/", RefusalReason.INVALID_URL),
    ("https:///example.com/", RefusalReason.INVALID_URL),
    ("https://", RefusalReason.INVALID_URL),
    # ports
    ("https://example.com:22/", RefusalReason.PORT_NOT_ALLOWED),
    ("https://example.com:80/", RefusalReason.PORT_NOT_ALLOWED),
    ("https://example.com:6379/", RefusalReason.PORT_NOT_ALLOWED),
    ("https://example.com:0/", RefusalReason.INVALID_URL),
    ("https://example.com:65536/", RefusalReason.INVALID_URL),
    ("https://example.com:/", RefusalReason.INVALID_URL),
    ("https://example.com:+443/", RefusalReason.INVALID_URL),
    ("https://example.com:4\u0664\u0663/", RefusalReason.INVALID_URL),  # Arabic-Indic digits
    # characters
    (" https://example.com/", RefusalReason.INVALID_URL),
    ("https://exa mple.com/", RefusalReason.INVALID_URL),
    ("https://example.com/\x00", RefusalReason.INVALID_URL),
    ("https://example.com\t/", RefusalReason.INVALID_URL),
    ("https://example.com/\r\nHost: evil.net", RefusalReason.INVALID_URL),
    ("https://example.com/" + "a" * 2048, RefusalReason.INVALID_URL),
]


@pytest.mark.parametrize(("url", "reason"), MALICIOUS_URLS, ids=[u[:60] for u, _ in MALICIOUS_URLS])
def test_malicious_url_is_refused_before_dns(url: str, reason: RefusalReason) -> None:
    resolver = CountingResolver([PUBLIC])
    with pytest.raises(OutboundRefused) as refused:
        run(check_url(url, STRICT, resolver=resolver))
    assert refused.value.reason is reason
    assert resolver.calls == []


def test_the_malicious_table_is_large_and_every_url_is_fine_once_repaired() -> None:
    """The table is not refusing everything: the same policy passes ordinary URLs."""
    assert len(MALICIOUS_URLS) >= 40
    for url in ("https://example.com/", "https://a.b.example.com:443/x?y=1#frag"):
        target = run(check_url(url, STRICT, resolver=CountingResolver([PUBLIC])))
        assert target.addresses == (ip_address(PUBLIC),)
    assert target.url == "https://a.b.example.com/x?y=1"  # default port and fragment dropped


@pytest.mark.parametrize(
    "spelling",
    ["127.0.0.1", "2130706433", "0x7f000001", "0x7f.0.0.1", "0x7f.1", "0177.0.0.1", "127.1",
     "127.0.1", "0", "017700000001", "0xA9.0xFE.0xA9.0xFE", "10.0x10", "255.255.255.255"],
)  # fmt: skip
def test_ipv4_parser_agrees_with_inet_aton(spelling: str) -> None:
    """Our hand-written WHATWG parser reads every legacy spelling as libc (getaddrinfo) does."""
    assert parse_ipv4(spelling) == IPv4Address(socket.inet_aton(spelling))


@pytest.mark.parametrize(
    "url",
    ["http://0x7f.0.0.1:{port}/", "http://2130706433:{port}/", "http://127.1:{port}/",
     "http://0177.0.0.1:{port}/", "http://[::ffff:127.0.0.1]:{port}/"],
)  # fmt: skip
def test_dev_allowance_matches_only_the_canonical_spelling(url: str) -> None:
    policy = local_policy(8080)
    assert run(check_url("http://127.0.0.1:8080/", policy)).addresses == (LOOPBACK,)
    with pytest.raises(OutboundRefused) as refused:
        run(check_url(url.format(port=8080), policy))
    assert refused.value.reason is RefusalReason.IP_LITERAL


def test_zone_id_never_matches_a_dev_allowance() -> None:
    policy = local_policy(8080, dev_allowed_addresses=frozenset({IPv6Address("::1")}))
    assert run(check_url("http://[::1]:8080/", policy)).addresses == (IPv6Address("::1"),)
    with pytest.raises(OutboundRefused) as refused:
        run(check_url("http://[::1%25lo]:8080/", policy))
    assert refused.value.reason is RefusalReason.IP_LITERAL


# --- 2. Which addresses are blocked ----------------------------------------------------------

# Each address with the rule that must catch it (the label names the range).
BLOCKED_ADDRESSES: dict[str, str] = {
    "0.0.0.0": "this_network",  # noqa: S104
    "0.1.2.3": "this_network",
    "10.0.0.1": "private",
    "10.255.255.255": "private",
    "100.64.0.1": "shared",
    "100.100.100.200": "shared",
    "127.0.0.1": "loopback",
    "127.255.255.254": "loopback",
    "169.254.169.254": "link_local",
    "169.254.170.2": "link_local",
    "172.16.0.1": "private",
    "172.31.255.255": "private",
    "192.0.0.8": "ietf_protocol",
    "192.0.0.192": "ietf_protocol",
    "192.0.2.1": "documentation",
    "192.88.99.1": "relay_anycast",
    "192.168.1.1": "private",
    "198.18.0.1": "benchmarking",
    "198.51.100.7": "documentation",
    "203.0.113.9": "documentation",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "168.63.129.16": "metadata",
    "::": "unspecified",
    "::1": "loopback",
    "::127.0.0.1": "ipv4_compatible",
    "::8.8.8.8": "ipv4_compatible",
    "::ffff:127.0.0.1": "embedded_loopback",
    "::ffff:7f00:1": "embedded_loopback",
    "::ffff:10.0.0.1": "embedded_private",
    "::ffff:169.254.169.254": "embedded_link_local",
    "64:ff9b::7f00:1": "embedded_loopback",
    "64:ff9b::a9fe:a9fe": "embedded_link_local",
    "64:ff9b:1::808:808": "nat64_local",
    "2002:7f00:1::": "embedded_loopback",
    "2002:a00:1::1": "embedded_private",
    "2001::1": "ietf_protocol",
    "2001:db8::1": "documentation",
    "3fff::1": "documentation",
    "100::1": "discard",
    "fc00::1": "unique_local",
    "fd00:ec2::254": "unique_local",
    "fe80::1": "link_local",
    "fe80::1%eth0": "link_local",
    "fec0::1": "site_local",
    "ff02::1": "multicast",
    "ff0e::1": "multicast",
    "5f00::1": "srv6",
    "4000::1": "not_global_unicast",
}
PUBLIC_ADDRESSES = [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.0", "172.32.0.1",
    "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8",
    "64:ff9b::808:808", "2002:808:808::1",
]  # fmt: skip


@pytest.mark.parametrize(("address", "label"), BLOCKED_ADDRESSES.items())
def test_address_is_blocked(address: str, label: str) -> None:
    assert blocked_reason(ip_address(address)) == label


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_address_is_allowed(address: str) -> None:
    assert blocked_reason(ip_address(address)) is None


# --- 3. Allowlist matching -----------------------------------------------------------------

ALLOWLIST_CASES: list[tuple[str, str, bool]] = [
    ("example.com", "https://example.com/", True),
    ("example.com", "https://EXAMPLE.COM/", True),
    ("example.com", "https://example.com./", True),
    ("EXAMPLE.com.", "https://example.com/", True),
    ("example.com", "https://\uff45xample.com/", True),  # fullwidth e maps to e (same host)
    ("example.com", "https://sub.example.com/", False),
    ("example.com", "https://evil-example.com/", False),
    ("example.com", "https://evilexample.com/", False),
    ("example.com", "https://example.com.evil.net/", False),
    ("example.com", "https://example.co/", False),
    ("example.com", "https://ex\u0430mple.com/", False),  # Cyrillic a: another host
    ("example.com", "https://xn--exmple-4nf.com/", False),
    ("*.example.com", "https://a.example.com/", True),
    ("*.example.com", "https://a.b.example.com/", True),
    ("*.example.com", "https://A.Example.Com./", True),
    ("*.example.com", "https://example.com/", False),
    ("*.example.com", "https://evil-example.com/", False),
    ("*.example.com", "https://aexample.com/", False),
    ("*.example.com", "https://a.example.com.evil.net/", False),
    ("b\u00fccher.example", "https://xn--bcher-kva.example/", True),
    ("xn--bcher-kva.example", "https://B\u00dcCHER.example/", True),
    ("bucher.example", "https://b\u00fccher.example/", False),
]


@pytest.mark.parametrize(("entry", "url", "allowed"), ALLOWLIST_CASES)
def test_allowlist_matching(entry: str, url: str, allowed: bool) -> None:
    policy = OutboundPolicy(allowed_domains=frozenset({entry}))
    if allowed:
        assert run(check_url(url, policy, resolver=CountingResolver([PUBLIC]))).url
        return
    with pytest.raises(OutboundRefused) as refused:
        run(check_url(url, policy, resolver=CountingResolver([PUBLIC])))
    assert refused.value.reason is RefusalReason.HOST_NOT_ALLOWED


def test_any_public_host_still_checks_addresses() -> None:
    policy = OutboundPolicy(allow_any_public_host=True)
    assert run(check_url("https://anything.test/", policy, resolver=CountingResolver([PUBLIC])))
    with pytest.raises(OutboundRefused) as refused:
        run(check_url("https://anything.test/", policy, resolver=CountingResolver(["10.1.2.3"])))
    assert refused.value.reason is RefusalReason.BLOCKED_ADDRESS


# --- 4. Policies that must not exist -------------------------------------------------------


@pytest.mark.parametrize(
    "entry", ["*", "*.com", "*example.com", "a.*.example.com", "127.0.0.1", "0x7f.1",
              "https://example.com", "example.com/path", "", "under_score.example"],
)  # fmt: skip
def test_invalid_allowlist_entry_is_refused(entry: str) -> None:
    with pytest.raises(OutboundPolicyError):
        normalise_allowed_domain(entry)
    with pytest.raises(OutboundPolicyError):
        OutboundPolicy(allowed_domains=frozenset({entry}))


def test_allowlist_entries_are_normalised() -> None:
    assert normalise_allowed_domain("*.B\u00dccher.Example.") == "*.xn--bcher-kva.example"


@pytest.mark.parametrize(
    "overrides",
    [
        {"allow_http": True},
        {"dev_allowed_addresses": frozenset({LOOPBACK})},
        {
            "environment": Environment.TEST,
            "dev_allowed_addresses": frozenset({ip_address("10.0.0.1")}),
        },
        {"allow_any_public_host": True, "allowed_domains": frozenset({"example.com"})},
        {"allowed_ports": frozenset({0})},
        {"max_response_bytes": 0},
        {"timeout_seconds": 0},
        {"max_request_body_bytes": -1},
    ],
)
def test_unsafe_policy_is_refused(overrides: dict[str, Any]) -> None:
    """Production (the default environment) refuses plain http and loopback allowances."""
    with pytest.raises(OutboundPolicyError):
        OutboundPolicy(**overrides)


def test_policy_from_production_settings_refuses_http() -> None:
    production = Settings(environment=Environment.PRODUCTION)
    with pytest.raises(OutboundPolicyError):
        policy_for(production, allow_http=True)
    with pytest.raises(OutboundPolicyError):
        policy_for(production, dev_allowed_addresses=frozenset({LOOPBACK}))
    https_only = policy_for(production, allowed_domains=frozenset({"example.com"}))
    with pytest.raises(OutboundRefused) as refused:
        run(check_url("http://example.com/", https_only, resolver=CountingResolver([PUBLIC])))
    assert refused.value.reason is RefusalReason.SCHEME_NOT_ALLOWED
    development = Settings(environment=Environment.DEVELOPMENT)
    assert policy_for(development, allow_http=True).allow_http


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
