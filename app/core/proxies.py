"""Trusted proxies: Cloudflare's published ranges (shipped as data) and the config token for them.

``TRUSTED_PROXY_CIDRS=cloudflare,127.0.0.1/32`` trusts Cloudflare's edge plus a local proxy.
Only a peer inside Cloudflare's ranges may tell us the client with ``CF-Connecting-IP``; a local
proxy is believed for ``X-Forwarded-For`` only (see ``request_context.resolve_client_ip``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

Network = IPv4Network | IPv6Network

CLOUDFLARE_TOKEN = "cloudflare"  # noqa: S105 - a config keyword, not a credential
CLOUDFLARE_IPS_FILE = Path(__file__).with_name("data") / "cloudflare_ips.txt"


def parse_cidr_lines(text: str) -> list[Network]:
    """One CIDR per line; blank lines and ``#`` comments ignored; host bits must be zero."""
    networks: list[Network] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            networks.append(ip_network(line, strict=True))
    return networks


@lru_cache(maxsize=1)
def cloudflare_networks() -> tuple[Network, ...]:
    return tuple(parse_cidr_lines(CLOUDFLARE_IPS_FILE.read_text(encoding="utf-8")))


def expand_proxy_tokens(items: Iterable[str | Network]) -> list[Network]:
    """``cloudflare`` expands to the shipped ranges; anything else must be a CIDR or an address."""
    networks: list[Network] = []
    for item in items:
        if isinstance(item, IPv4Network | IPv6Network):
            networks.append(item)
        elif item.strip().lower() == CLOUDFLARE_TOKEN:
            networks.extend(cloudflare_networks())
        else:
            networks.append(ip_network(item.strip(), strict=False))
    return networks


def within_cloudflare(networks: Iterable[Network]) -> list[Network]:
    """The configured networks that lie inside Cloudflare's published ranges."""
    edge = cloudflare_networks()
    return [
        net
        for net in networks
        if any(net.version == cf.version and net.subnet_of(cf) for cf in edge)  # type: ignore[arg-type]
    ]
