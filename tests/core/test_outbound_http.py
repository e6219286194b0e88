"""The outbound HTTP guard (C12 fetch tool, outgoing webhooks) refuses every SSRF route we know.

Nothing here mocks ``app.core.outbound``. DNS is replaced by a resolver callable (a stand-in for
the DNS server, counting its calls); every connection goes to a real server on loopback started
by the test (``asyncio.start_server``, TLS from a ``trustme`` CA), reached only because the
test's policy allows that loopback address explicitly. Addresses outside loopback appear only in
checks that never connect.
"""

from __future__ import annotations

import socket
from asyncio import run
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

import pytest

from app.core.config import Environment, Settings
from app.core.outbound import (
    OutboundPolicy,
    OutboundPolicyError,
    OutboundRefused,
    RefusalReason,
    blocked_reason,
    check_url,
    normalise_allowed_domain,
    policy_for,
)
from app.core.outbound.addresses import parse_ipv4
from tests.core.outbound_server import LOOPBACK, PUBLIC, STRICT, CountingResolver, local_policy

pytestmark = pytest.mark.checklist(
    "C12",
    red="remove a blocked address range or a URL-parser refusal from app/core/outbound, resolve "
    "twice instead of pinning the checked address, follow redirects, or drop a size or time "
    "cap",
)

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
