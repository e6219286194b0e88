"""The one client IP, through trusted proxies only: Cloudflare ranges as data, a local proxy (C11).

``CF-Connecting-IP`` is believed only from a peer inside Cloudflare's published ranges; a local
proxy is believed for ``X-Forwarded-For`` only; any other peer's forwarding headers (including
``X-Real-IP``, ``True-Client-IP`` and ``Forwarded``) are ignored. Unit cases use the shipped
ranges; the end-to-end cases read the IP a running server recorded on the session (loopback
cannot be a Cloudflare peer, so the Cloudflare side is covered by the unit cases only).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from ipaddress import IPv4Network, ip_address, ip_network

import httpx
import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.core.proxies import CLOUDFLARE_IPS_FILE, cloudflare_networks, parse_cidr_lines
from app.core.request_context import resolve_client_ip
from tests.factories.users import signup
from tests.servers import ServerFactory
from tests.support import (
    Database,
    Server,
    session_cookie,
)

pytestmark = pytest.mark.checklist(
    "C6",
    "C11",
    red="believe CF-Connecting-IP or X-Forwarded-For from a peer outside the trusted proxies or "
    "Cloudflare's ranges (app/core/proxies.py), or ship a private range as Cloudflare's",
)

CF_EDGE_V4 = "173.245.48.10"  # inside 173.245.48.0/20
CF_EDGE_V6 = "2606:4700:10::1"  # inside 2606:4700::/32
LOCAL_PROXY = "127.0.0.1"
SPOOF = {
    "cf-connecting-ip": "1.2.3.4",
    "x-forwarded-for": "1.2.3.4",
    "x-real-ip": "1.2.3.4",
    "true-client-ip": "1.2.3.4",
    "forwarded": "for=1.2.3.4;proto=https",
}


@pytest.fixture(autouse=True)
def no_env_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.upper().startswith("TRUSTED_PROXY_CIDRS"):
            monkeypatch.delenv(key)


def settings(cidrs: str) -> Settings:
    return Settings(trusted_proxy_cidrs=cidrs)  # env-style CSV, as from the environment


# --- the shipped data ------------------------------------------------------------------------


def test_cloudflare_file_parses_names_its_source_and_holds_only_public_ranges() -> None:
    text = CLOUDFLARE_IPS_FILE.read_text(encoding="utf-8")
    assert "https://www.cloudflare.com/ips/" in text
    networks = parse_cidr_lines(text)
    assert networks == list(cloudflare_networks())
    assert {net.version for net in networks} == {4, 6}
    assert len(networks) >= 15
    for net in networks:
        assert net.is_global, f"{net} is not a public range"
        assert not net.is_private, f"{net} is private"
        assert not net.is_loopback, f"{net} is loopback"
        assert not net.is_link_local, f"{net} is link-local"
        assert not net.is_reserved, f"{net} is reserved"
        assert net.prefixlen >= 8, f"{net} is implausibly wide"
    for i, first in enumerate(networks):
        for second in networks[i + 1 :]:
            assert not first.overlaps(second), f"{first} overlaps {second}"


def test_parse_rejects_host_bits_and_garbage() -> None:
    with pytest.raises(ValueError, match="host bits"):
        parse_cidr_lines("173.245.48.1/20")
    with pytest.raises(ValueError, match="does not appear"):
        parse_cidr_lines("cloudflare.com")


# --- TRUSTED_PROXY_CIDRS -----------------------------------------------------------------------


def test_cloudflare_token_expands_to_the_file_plus_explicit_cidrs() -> None:
    configured = settings("cloudflare, 127.0.0.1/32")
    assert configured.trusted_proxy_cidrs == [*cloudflare_networks(), ip_network("127.0.0.1/32")]
    # Only the Cloudflare part may speak CF-Connecting-IP.
    assert configured.cloudflare_proxy_cidrs == list(cloudflare_networks())


def test_without_the_token_no_peer_is_cloudflare() -> None:
    configured = settings("10.0.0.0/8")
    assert configured.trusted_proxy_cidrs == [ip_network("10.0.0.0/8")]
    assert configured.cloudflare_proxy_cidrs == []


def test_a_wider_range_than_cloudflare_s_is_not_treated_as_cloudflare() -> None:
    configured = settings("172.0.0.0/8")  # covers 172.64.0.0/13 but is far more than Cloudflare
    assert configured.cloudflare_proxy_cidrs == []


def test_unknown_token_is_refused() -> None:
    with pytest.raises(ValidationError):
        settings("cloudflair")


# --- resolve_client_ip with the real ranges ----------------------------------------------------


def resolve(peer: str | None, headers: dict[str, str]) -> str | None:
    configured = settings("cloudflare,127.0.0.1/32")
    return resolve_client_ip(
        peer, headers, configured.trusted_proxy_cidrs, configured.cloudflare_proxy_cidrs
    )


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        pytest.param(CF_EDGE_V4, {"cf-connecting-ip": "198.51.100.9"}, "198.51.100.9", id="cf-v4"),
        pytest.param(
            CF_EDGE_V6, {"cf-connecting-ip": "2001:db8::42"}, "2001:db8::42", id="cf-v6-peer"
        ),
        pytest.param(
            f"::ffff:{CF_EDGE_V4}",
            {"cf-connecting-ip": "198.51.100.9"},
            "198.51.100.9",
            id="cf-v4-mapped-peer",
        ),
        pytest.param(
            CF_EDGE_V4,
            {"cf-connecting-ip": "198.51.100.9", "x-forwarded-for": "5.6.7.8"},
            "198.51.100.9",
            id="cf-header-wins-from-cloudflare",
        ),
        pytest.param(
            CF_EDGE_V4,
            {"x-forwarded-for": "198.51.100.9"},
            "198.51.100.9",
            id="cloudflare-without-cf-header-uses-xff",
        ),
        pytest.param(
            CF_EDGE_V4, {"cf-connecting-ip": "garbage"}, CF_EDGE_V4, id="garbage-cf-header"
        ),
        pytest.param(
            LOCAL_PROXY,
            {"cf-connecting-ip": "1.2.3.4", "x-forwarded-for": "198.51.100.9"},
            "198.51.100.9",
            id="local-proxy-cf-header-ignored",
        ),
        pytest.param(
            LOCAL_PROXY, {"cf-connecting-ip": "1.2.3.4"}, LOCAL_PROXY, id="local-proxy-cf-only"
        ),
        pytest.param(
            LOCAL_PROXY,
            # Cloudflare -> local proxy -> app: the local proxy appended the edge address.
            {"x-forwarded-for": f"198.51.100.9, {CF_EDGE_V4}"},
            "198.51.100.9",
            id="cloudflare-then-local-proxy",
        ),
        pytest.param(
            LOCAL_PROXY,
            {"x-forwarded-for": "1.2.3.4, 198.51.100.9"},
            "198.51.100.9",
            id="client-prepended-xff-hop-ignored",
        ),
        pytest.param("203.0.113.7", SPOOF, "203.0.113.7", id="untrusted-peer-all-spoofs"),
        pytest.param("::ffff:203.0.113.7", SPOOF, "203.0.113.7", id="untrusted-v4-mapped"),
        pytest.param("104.15.255.255", SPOOF, "104.15.255.255", id="just-below-104.16.0.0/13"),
        pytest.param(
            LOCAL_PROXY,
            {k: v for k, v in SPOOF.items() if k not in ("cf-connecting-ip", "x-forwarded-for")},
            LOCAL_PROXY,
            id="other-forwarding-headers-never-read",
        ),
    ],
)
def test_resolve_client_ip_with_cloudflare(
    peer: str | None, headers: dict[str, str], expected: str | None
) -> None:
    assert resolve(peer, headers) == expected


def test_every_shipped_range_is_believed_for_cf_connecting_ip() -> None:
    for net in cloudflare_networks():
        edge = str(next(net.hosts()) if isinstance(net, IPv4Network) else net[1])
        assert resolve(edge, {"cf-connecting-ip": "198.51.100.9"}) == "198.51.100.9", net
        assert ip_address(edge) in net


# --- end to end: the running server records the resolved IP -----------------------------------


@pytest.fixture(scope="module")
def proxied_server(server_factory: ServerFactory) -> Iterator[Server]:
    """Trusts Cloudflare (by token) and a local proxy on 127.0.0.1; 127.0.0.2 is a stranger."""
    with server_factory(name="proxied", TRUSTED_PROXY_CIDRS="cloudflare,127.0.0.1/32") as server:
        yield server


def _login_from(server: Server, db: Database, source: str) -> str | None:
    """Sign in from ``source`` with every forwarding header spoofed; the session's recorded IP."""
    email, password = signup(server, db)
    headers = {
        **SPOOF,
        "cf-connecting-ip": "203.0.113.66",
        "x-forwarded-for": "203.0.113.77",
        "Origin": server.origin,
    }
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, base_url=server.url, timeout=30) as client:
        login = client.post(
            "/v1/auth/login", json={"email": email, "password": password}, headers=headers
        )
        assert login.status_code == 200, login.text
        cookie = session_cookie(login)
        sessions = client.get(
            "/v1/me/sessions",
            headers={"Origin": server.origin, "Cookie": f"__Host-lp_session={cookie}"},
        )
    assert sessions.status_code == 200, sessions.text
    (current,) = [item for item in sessions.json()["items"] if item["current"]]
    ip: str | None = current["client_ip"]
    return ip


def test_local_proxy_is_believed_for_x_forwarded_for_only(
    proxied_server: Server, db: Database
) -> None:
    # Not 203.0.113.66: CF-Connecting-IP from a non-Cloudflare peer is ignored, even a trusted one.
    assert _login_from(proxied_server, db, "127.0.0.1") == "203.0.113.77"


def test_a_stranger_s_forwarding_headers_are_all_ignored(
    proxied_server: Server, db: Database
) -> None:
    assert _login_from(proxied_server, db, "127.0.0.2") == "127.0.0.2"
