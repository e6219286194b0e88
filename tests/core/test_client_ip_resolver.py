"""The client IP comes from a forwarding header only when the peer is a trusted proxy (C6): the
resolver the rate limits and the audit log trust, unit-tested.
"""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from app.core.request_context import Network, resolve_client_ip

# --- Client IP through trusted proxies only -------------------------------------------------

TRUSTED: list[Network] = [ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")]


@pytest.mark.checklist(
    "C6",
    red="take the client IP from a forwarding header of a peer outside TRUSTED_PROXIES",
)
@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        pytest.param(
            "203.0.113.7",
            {"cf-connecting-ip": "1.2.3.4", "x-forwarded-for": "5.6.7.8"},
            "203.0.113.7",
            id="untrusted-peer-headers-ignored",
        ),
        pytest.param(
            "10.0.0.2",
            {"cf-connecting-ip": "198.51.100.9", "x-forwarded-for": "5.6.7.8"},
            "5.6.7.8",  # a local proxy is believed for X-Forwarded-For only (tests/edge)
            id="cf-connecting-ip-ignored-from-non-cloudflare-proxy",
        ),
        pytest.param(
            "10.0.0.2",
            {"x-forwarded-for": "1.1.1.1, 198.51.100.20, 10.0.0.9"},
            "198.51.100.20",
            id="right-most-untrusted-xff-hop",
        ),
        pytest.param(
            "10.0.0.2",
            {"x-forwarded-for": "10.0.0.7, 10.0.0.8"},
            "10.0.0.2",
            id="all-hops-trusted-falls-back-to-peer",
        ),
        pytest.param(
            "10.0.0.2",
            {"cf-connecting-ip": "not-an-ip", "x-forwarded-for": "198.51.100.20"},
            "198.51.100.20",
            id="garbage-cf-header-ignored",
        ),
        pytest.param(
            "10.0.0.2",
            {"x-forwarded-for": "198.51.100.20, garbage, 10.0.0.9"},
            "10.0.0.2",
            id="garbage-hop-stops-the-walk",
        ),
        pytest.param(
            "10.0.0.2", {"x-forwarded-for": "<script>"}, "10.0.0.2", id="garbage-xff-ignored"
        ),
        pytest.param(
            "2001:db8::1",
            {"x-forwarded-for": "[2001:db8:ffff::1], 2001:db8::2"},
            "2001:db8::1",
            id="ipv6-all-trusted",
        ),
        pytest.param(
            "2001:db8::1",
            {"x-forwarded-for": "2606:4700::1111"},
            "2606:4700::1111",
            id="ipv6-untrusted-hop",
        ),
        pytest.param(None, {"x-forwarded-for": "1.2.3.4"}, None, id="no-peer"),
    ],
)
def test_resolve_client_ip(peer: str | None, headers: dict[str, str], expected: str | None) -> None:
    assert resolve_client_ip(peer, headers, TRUSTED) == expected


@pytest.mark.checklist("C6", red="believe X-Forwarded-For when no proxy is trusted")
def test_forwarding_headers_are_ignored_without_trusted_proxies() -> None:
    headers = {"cf-connecting-ip": "1.2.3.4", "x-forwarded-for": "1.2.3.4"}
    assert resolve_client_ip("10.0.0.2", headers, []) == "10.0.0.2"
