"""Refresh app/core/data/cloudflare_ips.txt from Cloudflare's published lists.

Run by a person before a deployment (never by the tests, which only check the file):

    .venv/bin/python scripts/refresh_cloudflare_ips.py          # fetch, check, write
    .venv/bin/python scripts/refresh_cloudflare_ips.py --check  # fetch and compare; exit 1 on drift

The lists are https://www.cloudflare.com/ips-v4/ and https://www.cloudflare.com/ips-v6/ (plain
text, one CIDR a line). The result is refused unless it parses, has both families and holds no
private, loopback, link-local, multicast or reserved range, so a captive portal or an error page
never becomes the trusted-proxy list. Review the diff (git diff) before committing it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "app" / "core" / "data" / "cloudflare_ips.txt"
SOURCES = {4: "https://www.cloudflare.com/ips-v4/", 6: "https://www.cloudflare.com/ips-v6/"}
Network = IPv4Network | IPv6Network
HEADER = """\
# Cloudflare's published edge IP ranges: the only peers whose CF-Connecting-IP header is believed.
# Source: https://www.cloudflare.com/ips/ (https://www.cloudflare.com/ips-v4/ and
# https://www.cloudflare.com/ips-v6/), fetched {date} by scripts/refresh_cloudflare_ips.py.
# RE-CHECK before every deployment (run the script with --check). One CIDR per line; '#' starts
# a comment. Used when TRUSTED_PROXY_CIDRS contains the token "cloudflare".
"""


class RangeError(ValueError):
    """The fetched or shipped list is not a list of public edge ranges."""


def parse(text: str) -> list[Network]:
    """One CIDR per line; blank lines and ``#`` comments ignored; host bits must be zero."""
    networks: list[Network] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            try:
                networks.append(ip_network(line, strict=True))
            except ValueError as exc:
                raise RangeError(f"not a CIDR: {line!r}") from exc
    return networks


def problems(networks: Iterable[Network]) -> list[str]:
    """Why this list must not be trusted (empty: it may)."""
    found: list[str] = []
    networks = list(networks)
    for version in (4, 6):
        if not any(n.version == version for n in networks):
            found.append(f"no IPv{version} range")
    for network in networks:
        if not network.is_global or network.is_multicast or network.is_reserved:
            found.append(f"{network} is not a public range")
        if network.prefixlen < (8 if network.version == 4 else 20):
            found.append(f"{network} is implausibly large for an edge range")
    if len(set(networks)) != len(networks):
        found.append("duplicate ranges")
    return found


def render(networks: list[Network], date: str) -> str:
    lines = [HEADER.format(date=date)]
    for version in (4, 6):
        lines.append(f"# IPv{version}")
        lines.extend(str(n) for n in networks if n.version == version)
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def fetch_text(url: str) -> str:
    import httpx

    response = httpx.get(url, timeout=20, follow_redirects=False)
    response.raise_for_status()
    if not response.headers.get("content-type", "").startswith("text/plain"):
        raise RangeError(f"{url} answered {response.headers.get('content-type')!r}")
    return response.text


def fetch(get: Callable[[str], str] = fetch_text) -> list[Network]:
    networks: list[Network] = []
    for version, url in SOURCES.items():
        got = parse(get(url))
        if any(n.version != version for n in got):
            raise RangeError(f"{url} listed a range of the other family")
        networks.extend(got)
    found = problems(networks)
    if found:
        raise RangeError("; ".join(found))
    return networks


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on drift")
    args = parser.parse_args(argv)
    fetched = fetch()
    shipped = parse(TARGET.read_text(encoding="utf-8"))
    added = sorted(map(str, set(fetched) - set(shipped)))
    removed = sorted(map(str, set(shipped) - set(fetched)))
    for label, items in (("added", added), ("removed", removed)):
        for item in items:
            say(f"{label}: {item}")
    if args.check:
        say("up to date" if not (added or removed) else "DRIFT: run without --check")
        return 1 if added or removed else 0
    TARGET.write_text(render(fetched, datetime.now(UTC).date().isoformat()), encoding="utf-8")
    say(f"wrote {TARGET.relative_to(ROOT)} ({len(fetched)} ranges); review with git diff")
    return 0


if __name__ == "__main__":
    sys.exit(main())
