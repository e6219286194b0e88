"""C10: ``check-domain`` reads SPF, DKIM and DMARC from DNS and fails each broken setup with the
right reason. The DNS is a real server on loopback (tests/dns_server.py) asked over the wire.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.email.domain_check import check_domain, make_resolver
from tests.dns_server import LocalDNSServer
from tests.email.keys import dkim_record, private_key, private_pem
from tests.support import free_port, run_cli

pytestmark = pytest.mark.checklist(
    "C10",
    red="let check-domain (app/email/domain_check.py) pass a missing or broken SPF, DKIM or DMARC"
    " record, more than ten SPF lookups, or an unreachable DNS",
)

DOMAIN = "mail.example.test"
SELECTOR = "lp2026"


def good_zone() -> dict[str, dict[str, list[str]]]:
    return {
        DOMAIN: {"TXT": ["v=spf1 ip4:192.0.2.0/24 include:_spf.relay.test -all", "other=1"]},
        "_spf.relay.test": {"TXT": ["v=spf1 ip4:198.51.100.0/24 a:out.relay.test ~all"]},
        f"{SELECTOR}._domainkey.{DOMAIN}": {"TXT": [dkim_record(private_key())]},
        f"_dmarc.{DOMAIN}": {"TXT": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@example.test"]},
    }


def check_zone(zone: dict[str, Any], *, key_pem: str | None = None) -> dict[str, tuple[bool, str]]:
    pem = (key_pem or private_pem(private_key())).encode()
    with LocalDNSServer(zone) as dns:
        results = check_domain(
            DOMAIN, selector=SELECTOR, private_key_pem=pem, resolver=make_resolver(dns.nameserver)
        )
    return {r.name: (r.ok, "; ".join(r.reasons)) for r in results}


def test_good_zone_passes_every_check() -> None:
    results = check_zone(good_zone())
    assert all(ok for ok, _ in results.values()), results
    assert "2 of 10 DNS lookups" in results["SPF"][1]
    assert "matches the configured private key" in results["DKIM"][1]


def _with(name: str, values: list[str]) -> dict[str, Any]:
    zone = good_zone()
    zone[name] = {"TXT": values}
    return zone


def _without(name: str) -> dict[str, Any]:
    zone = good_zone()
    del zone[name]
    return zone


ELEVEN_LOOKUPS = "v=spf1 " + " ".join(f"a:h{i}.example.test" for i in range(10)) + " include:"


@pytest.mark.parametrize(
    ("zone", "check", "reason"),
    [
        pytest.param(
            _with(DOMAIN, ["v=spf1 -all", "v=spf1 ip4:192.0.2.1 -all"]),
            "SPF",
            "2 SPF records",
            id="two-spf-records",
        ),
        pytest.param(
            _with(DOMAIN, ["v=spf1 ip4:192.0.2.1 +all"]), "SPF", "ends in +all", id="plus-all"
        ),
        pytest.param(_with(DOMAIN, ["v=spf1 ip4:192.0.2.1"]), "SPF", "ends in no all", id="no-all"),
        pytest.param(
            _with(DOMAIN, [ELEVEN_LOOKUPS + "_spf.relay.test -all"]),
            "SPF",
            # 10 a: terms + the include + the a: inside it = 12 (recursion counted)
            "12 DNS lookups (limit 10)",
            id="over-ten-lookups",
        ),
        pytest.param(_without(DOMAIN), "SPF", "no SPF record", id="spf-missing"),
        pytest.param(
            _with(f"{SELECTOR}._domainkey.{DOMAIN}", [dkim_record(private_key(1024))]),
            "DKIM",
            "1024-bit key (at least 2048 required)",
            id="dkim-1024-bit",
        ),
        pytest.param(
            _with(f"{SELECTOR}._domainkey.{DOMAIN}", [dkim_record(private_key(2048, "other"))]),
            "DKIM",
            "does not match the configured private key",
            id="dkim-other-key",
        ),
        pytest.param(
            _without(f"{SELECTOR}._domainkey.{DOMAIN}"), "DKIM", "no DKIM record", id="dkim-missing"
        ),
        pytest.param(
            _with(f"_dmarc.{DOMAIN}", ["v=DMARC1; p=none; rua=mailto:d@example.test"]),
            "DMARC",
            "policy p=none (quarantine or reject required)",
            id="dmarc-p-none",
        ),
        pytest.param(
            _with(f"_dmarc.{DOMAIN}", ["v=DMARC1; p=reject"]),
            "DMARC",
            "no rua reporting address",
            id="dmarc-no-rua",
        ),
        pytest.param(_without(f"_dmarc.{DOMAIN}"), "DMARC", "no DMARC record", id="dmarc-missing"),
    ],
)
def test_broken_zone_fails_with_the_reason(zone: dict[str, Any], check: str, reason: str) -> None:
    results = check_zone(zone)
    ok, reasons = results[check]
    assert not ok
    assert reason in reasons, reasons
    # The other checks are unaffected by this one breakage.
    assert all(passed for name, (passed, _) in results.items() if name != check), results


def test_exactly_ten_lookups_still_pass() -> None:
    ten = "v=spf1 " + " ".join(f"a:h{i}.example.test" for i in range(10)) + " -all"
    assert check_zone(_with(DOMAIN, [ten]))["SPF"] == (
        True,
        "one record, ends in -all, 10 of 10 DNS lookups",
    )


def test_spf_redirect_is_followed_for_all_and_lookups() -> None:
    zone = _with(DOMAIN, ["v=spf1 ip4:192.0.2.1 redirect=_spf.relay.test"])
    ok, reasons = check_zone(zone)["SPF"]
    assert ok, reasons
    assert "ends in ~all, 2 of 10" in reasons  # redirect + the a: behind it


def _cli_env(tmp_path: Path, key: str) -> dict[str, str]:
    key_file = tmp_path / "dkim.pem"
    key_file.write_text(key)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DKIM_", "DATABASE_"))}
    env.update(DKIM_SELECTOR=SELECTOR, DKIM_PRIVATE_KEY_FILE=str(key_file), ENVIRONMENT="test")
    return env


def test_cli_passes_a_good_domain_and_exits_zero(tmp_path: Path) -> None:
    env = _cli_env(tmp_path, private_pem(private_key()))
    with LocalDNSServer(good_zone()) as dns:
        result = run_cli(env, "check-domain", DOMAIN, "--nameserver", dns.nameserver)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "PASS SPF",
        "PASS DKIM",
        "PASS DMARC",
    ]
    assert "PRIVATE KEY" not in result.stdout + result.stderr


def test_cli_fails_a_broken_domain_and_exits_non_zero(tmp_path: Path) -> None:
    env = _cli_env(tmp_path, private_pem(private_key(2048, "other")))
    zone = _with(f"_dmarc.{DOMAIN}", ["v=DMARC1; p=none"])
    with LocalDNSServer(zone) as dns:
        result = run_cli(
            env, "check-domain", DOMAIN, "--selector", SELECTOR, "--nameserver", dns.nameserver
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL DKIM" in result.stdout
    assert "does not match" in result.stdout
    assert "FAIL DMARC" in result.stdout
    assert "p=none" in result.stdout
    assert "PASS SPF" in result.stdout


def test_unreachable_dns_fails_instead_of_passing() -> None:
    resolver = make_resolver(f"127.0.0.1:{free_port()}", timeout=0.5)
    results = check_domain(DOMAIN, selector=SELECTOR, private_key_pem=None, resolver=resolver)
    assert not any(r.ok for r in results)
    assert all("DNS lookup of" in "; ".join(r.reasons) for r in results)
