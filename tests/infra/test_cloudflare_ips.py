"""app/core/data/cloudflare_ips.txt: Cloudflare's edge ranges, the peers believed for
CF-Connecting-IP. The file must parse, hold both families and nothing private; the refresh
script (run by a person, never here: no network in tests) refuses a list that does not.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from types import ModuleType

import pytest

from app.core.proxies import CLOUDFLARE_IPS_FILE, cloudflare_networks, parse_cidr_lines
from tests.infra.cloudflare_tf import ROOT

pytestmark = pytest.mark.checklist(
    "C11",
    red="ship a private range or a single address family in app/core/data/cloudflare_ips.txt, or "
    "let the refresh script accept one",
)


def _script() -> ModuleType:
    path = ROOT / "scripts" / "refresh_cloudflare_ips.py"
    spec = importlib.util.spec_from_file_location("refresh_cloudflare_ips", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_list_parses_has_both_families_and_nothing_private() -> None:
    networks = parse_cidr_lines(CLOUDFLARE_IPS_FILE.read_text(encoding="utf-8"))
    assert {n.version for n in networks} == {4, 6}
    assert len(networks) >= 10
    for network in networks:
        assert network.is_global, network
        for flag in ("is_private", "is_loopback", "is_link_local", "is_multicast", "is_reserved"):
            assert not getattr(network, flag), (network, flag)
    assert tuple(networks) == cloudflare_networks()
    assert _script().problems(networks) == []


@pytest.mark.parametrize(
    "bad", ["10.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "fe80::/10", "::1/128", "fc00::/7"]
)
def test_the_refresh_refuses_a_private_range(bad: str) -> None:
    script = _script()
    networks = [ipaddress.ip_network("173.245.48.0/20"), ipaddress.ip_network("2400:cb00::/32")]
    assert script.problems([*networks, ipaddress.ip_network(bad)])


def test_the_refresh_refuses_a_list_without_both_families_or_not_a_list() -> None:
    script = _script()
    assert script.problems([ipaddress.ip_network("173.245.48.0/20")]) == ["no IPv6 range"]
    pages = {4: "<html>Just a moment...</html>", 6: "2400:cb00::/32\n"}
    with pytest.raises(script.RangeError):
        script.fetch(lambda url: pages[4 if url == script.SOURCES[4] else 6])


def test_a_refresh_round_trips_through_the_file_format() -> None:
    """The fetcher is a stand-in for Cloudflare's two text lists; nothing leaves the machine."""
    script = _script()
    shipped = parse_cidr_lines(CLOUDFLARE_IPS_FILE.read_text(encoding="utf-8"))
    lists = {
        url: "\n".join(str(n) for n in shipped if n.version == version) + "\n"
        for version, url in script.SOURCES.items()
    }
    fetched = script.fetch(lists.__getitem__)
    assert set(fetched) == set(shipped)
    rendered = script.render(fetched, "2026-12-07")
    assert parse_cidr_lines(rendered) == fetched
    assert "fetched 2026-12-07" in rendered
