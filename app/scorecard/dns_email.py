"""The sending domain's SPF, DKIM and DMARC, through the same rules as ``check-domain``
(app/email/domain_check.py), from the outside: the DKIM record is judged on its own (RSA, at
least 2048 bits); matching it to the private key is ``check-domain``'s job on the server.

Each lookup counts as one request of the budget. Without ``--domain`` the row is NOT CHECKED.
"""

from __future__ import annotations

from collections.abc import Callable

import dns.resolver

from app.email.domain_check import (
    CheckResult,
    LookupFailed,
    check_dkim,
    check_dmarc,
    check_spf,
    make_resolver,
)
from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check

ROW = "dns_email"
FIX = "the domain's DNS records (docs/email.md#dns-records-and-check-domain, infra/dns/)"
RESOLVER_KEY = "dns_email.resolver"


def _resolver(ctx: Context) -> dns.resolver.Resolver:
    resolver: dns.resolver.Resolver | None = ctx.state.get(RESOLVER_KEY)
    if resolver is None:
        resolver = make_resolver(ctx.options.nameserver)
        ctx.state[RESOLVER_KEY] = resolver
    return resolver


def _ask(ctx: Context, name: str, run: Callable[[dns.resolver.Resolver], CheckResult]) -> Verdict:
    server = ctx.options.nameserver or "the system resolver"
    ctx.probe.budget.take()
    try:
        result = run(_resolver(ctx))
    except (LookupFailed, ValueError) as exc:
        result = CheckResult("", False, [str(exc)])
    # check-domain's note about the private key is for the server; from outside it is noise.
    reasons = [r for r in result.reasons if "DKIM_PRIVATE_KEY" not in r]
    evidence = Evidence(f"DNS TXT {name} @ {server}", None, "; ".join(reasons))
    return Verdict.passed(evidence) if result.ok else Verdict.failed(evidence)


def _no_domain() -> Verdict:
    return Verdict.not_checked("pass --domain (the sending domain) to check its DNS")


@check(ROW, "dns.spf", "SPF: one record, ending in -all or ~all, at most 10 lookups", fix=FIX)
def spf(ctx: Context) -> Verdict:
    domain = ctx.options.domain
    if not domain:
        return _no_domain()
    return _ask(ctx, domain, lambda resolver: check_spf(resolver, domain))


@check(ROW, "dns.dkim", "DKIM: a key record for the selector, RSA of 2048 bits or more", fix=FIX)
def dkim(ctx: Context) -> Verdict:
    domain, selector = ctx.options.domain, ctx.options.dkim_selector
    if not domain:
        return _no_domain()
    if not selector:
        return Verdict.not_checked("pass --dkim-selector (DKIM_SELECTOR of the deployment)")
    name = f"{selector}._domainkey.{domain}"
    return _ask(ctx, name, lambda resolver: check_dkim(resolver, domain, selector, None))


@check(ROW, "dns.dmarc", "DMARC: p=quarantine or reject, with a rua report address", fix=FIX)
def dmarc(ctx: Context) -> Verdict:
    domain = ctx.options.domain
    if not domain:
        return _no_domain()
    return _ask(ctx, f"_dmarc.{domain}", lambda resolver: check_dmarc(resolver, domain))
