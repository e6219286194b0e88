"""Monitoring and DNS/e-mail checks FAIL on a server or a zone with exactly one thing wrong:
a probe that tells too much, a public /metrics, a domain without DMARC (local DNS, real queries)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.scorecard import dns_email, monitoring
from app.scorecard.context import Context, Options
from app.scorecard.model import Status
from app.scorecard.probe import Budget, Probe
from app.scorecard.registry import Verdict
from tests.dns_server import LocalDNSServer
from tests.email.keys import dkim_record, private_key
from tests.scorecard.wrong_server import Answer, WrongServer, good

DOMAIN = "mail.launchproof.test"
SELECTOR = "s1"
GOOD_ZONE: dict[str, dict[str, list[str]]] = {
    DOMAIN: {"TXT": ["v=spf1 ip4:192.0.2.10 -all"]},
    f"{SELECTOR}._domainkey.{DOMAIN}": {"TXT": [dkim_record(private_key())]},
    f"_dmarc.{DOMAIN}": {"TXT": [f"v=DMARC1; p=reject; rua=mailto:dmarc@{DOMAIN}"]},
}


def monitoring_verdict(routes: dict[str, Answer], check: str) -> Verdict:
    with WrongServer(routes) as server:  # plain http is enough: these checks are about bodies
        ctx = server.context()
        try:
            result: Verdict = getattr(monitoring, check)(ctx)
            return result
        finally:
            ctx.probe.close()


HEALTHY = {"/healthz": good(200), "/readyz": good(200)}


@pytest.mark.checklist("C11", red="monitoring.probes ignores a failing or over-sharing probe")
@pytest.mark.parametrize(
    "readyz",
    [
        good(503, b'{"status":"unavailable"}'),
        good(200, b'{"status":"ok","database":"postgresql://app@10.0.0.5:5432/app"}'),
        good(200, b'{"status":"ok","error":"Traceback (most recent call last):"}'),
        good(200, b'{"status":"ok","key":"sk-' + b"a1B2c3D4" * 4 + b'"}'),
        good(200, b"{" + b" " * 4096 + b"}"),
    ],
)
def test_probes_fail(readyz: Answer) -> None:
    result = monitoring_verdict({**HEALTHY, "/readyz": readyz}, "probes")
    assert result.status is Status.FAIL, result
    assert result.evidence[1].detail != "nothing secret"


@pytest.mark.checklist("C11", red="monitoring.probes fails a plain status answer")
def test_probes_pass() -> None:
    assert monitoring_verdict(HEALTHY, "probes").status is Status.PASS


@pytest.mark.checklist("C11", red="monitoring.metrics_private passes a public /metrics")
@pytest.mark.parametrize(
    ("status", "expected"), [(200, Status.FAIL), (401, Status.PASS), (404, Status.PASS)]
)
def test_metrics(status: int, expected: Status) -> None:
    body = b"# HELP launchproof_requests_total\n"
    result = monitoring_verdict({"/metrics": good(status, body)}, "metrics_private")
    assert result.status is expected, result


# --- DNS and e-mail ---------------------------------------------------------------------------


@pytest.fixture
def dns() -> Iterator[LocalDNSServer]:
    with LocalDNSServer(GOOD_ZONE) as server:
        yield server


def dns_context(dns: LocalDNSServer, **options: object) -> Context:
    options.setdefault("domain", DOMAIN)
    options.setdefault("dkim_selector", SELECTOR)
    return Context(
        Options(base_url="https://app.launchproof.test", nameserver=dns.nameserver, **options),  # type: ignore[arg-type]
        Probe(Budget(50, 30)),
    )


def dns_verdicts(ctx: Context) -> dict[str, Status]:
    return {
        "spf": dns_email.spf(ctx).status,
        "dkim": dns_email.dkim(ctx).status,
        "dmarc": dns_email.dmarc(ctx).status,
    }


@pytest.mark.checklist("C10", red="a DNS check fails a correct zone")
def test_a_correct_zone_passes_and_counts_its_lookups(dns: LocalDNSServer) -> None:
    ctx = dns_context(dns)
    assert dns_verdicts(ctx) == dict.fromkeys(("spf", "dkim", "dmarc"), Status.PASS)
    assert ctx.probe.budget.used == 3


@pytest.mark.checklist("C10", red="dns.dmarc/spf/dkim accept a missing or weak record")
@pytest.mark.parametrize(
    ("name", "records", "broken"),
    [
        (f"_dmarc.{DOMAIN}", None, "dmarc"),  # no DMARC at all
        (f"_dmarc.{DOMAIN}", ["v=DMARC1; p=none; rua=mailto:d@x.test"], "dmarc"),
        (f"_dmarc.{DOMAIN}", ["v=DMARC1; p=reject"], "dmarc"),  # nobody reads the reports
        (DOMAIN, ["v=spf1 +all"], "spf"),
        (DOMAIN, ["v=spf1 -all", "v=spf1 ~all"], "spf"),
        (DOMAIN, [], "spf"),
        (f"{SELECTOR}._domainkey.{DOMAIN}", None, "dkim"),
        (f"{SELECTOR}._domainkey.{DOMAIN}", [dkim_record(private_key(1024, "weak"))], "dkim"),
    ],
)
def test_a_broken_record_fails_its_check_only(
    dns: LocalDNSServer, name: str, records: list[str] | None, broken: str
) -> None:
    if records is None:
        dns.remove(name)
    else:
        dns.set(name, "TXT", records)
    verdicts = dns_verdicts(dns_context(dns))
    assert verdicts[broken] is Status.FAIL, verdicts
    assert all(status is Status.PASS for check, status in verdicts.items() if check != broken)


@pytest.mark.checklist("C10", red="the DNS row passes without --domain")
def test_without_domain_or_selector_not_checked(dns: LocalDNSServer) -> None:
    verdicts = dns_verdicts(dns_context(dns, domain=None))
    assert set(verdicts.values()) == {Status.NOT_CHECKED}
    no_selector = dns_email.dkim(dns_context(dns, dkim_selector=None))
    assert no_selector.status is Status.NOT_CHECKED
    assert "--dkim-selector" in no_selector.why
