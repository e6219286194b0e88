"""HTTPS and the edge, as a browser meets them: redirect, HSTS, headers, banners, hidden docs,
security.txt, Cloudflare in front and the origin out of reach.

The header checks judge four answers every deployment gives without an account (a 200, a 401,
a 404 and a 422), fetched once per run and shared. IPv6, DNSSEC, DANE and RPKI depend on the
public internet's DNS and routing, which a run pinned with ``--resolve`` does not see: they say
NOT CHECKED and point to internet.nl.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from app.scorecard.context import Context
from app.scorecard.headers import banner_problems, hsts_problems, security_header_problems
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check

ROW = "https_edge"
SAMPLES_KEY = "https_edge.samples"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
API_ACCEPT = "application/json"
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")
SECURITY_TXT = "/.well-known/security.txt"
ORIGIN_TIMEOUT = 5.0


def get(
    ctx: Context, method: str, url: str, note: str = "", **kwargs: Any
) -> tuple[httpx.Response | None, Evidence]:
    """One counted request; a connection failure is evidence too (status None)."""
    label = f"{method} {url}" + (f" ({note})" if note else "")
    try:
        response = ctx.probe.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        return None, Evidence(label, None, f"no answer: {type(exc).__name__}")
    return response, Evidence(label, response.status_code)


def samples(ctx: Context) -> list[tuple[httpx.Response | None, Evidence]]:
    """The 200, 401, 404 and 422 every deployment answers without an account (fetched once)."""
    cached: list[tuple[httpx.Response | None, Evidence]] | None = ctx.state.get(SAMPLES_KEY)
    if cached is not None:
        return cached
    origin = ctx.options.base_url
    headers = {"Accept": API_ACCEPT}
    found = [
        get(ctx, "GET", ctx.url("/healthz"), "expect 200", headers=headers),
        get(ctx, "GET", ctx.url("/v1/me"), "no credential, expect 401", headers=headers),
        get(ctx, "GET", ctx.url("/launchproof-check-missing"), "expect 404", headers=headers),
        get(
            ctx,
            "POST",
            ctx.url("/v1/auth/login"),
            "e-mail of the wrong type, expect 422",
            headers={**headers, "Origin": origin},
            json={"email": 1},
        ),
    ]
    ctx.state[SAMPLES_KEY] = found
    return found


@check(
    ROW,
    "https.redirect",
    "plain http redirects a browser to https on the same host (301/308)",
    fix="app/core/https.py (PUBLIC_URL's origin); Cloudflare always_use_https in "
    "infra/cloudflare/zone_settings.tf (docs/deploy.md#cloudflare)",
)
def redirect(ctx: Context) -> Verdict:
    url = ctx.options.plain_http_url + "/?launchproof-check=1"
    browser = {"Accept": BROWSER_ACCEPT}
    response, evidence = get(ctx, "GET", url, "browser navigation", headers=browser)
    if response is None:
        # Nothing in clear text, but no redirect either: a typed name needs one unless it is
        # HSTS-preloaded. --http-url points at the listener when it is not on port 80.
        return Verdict.not_checked("plain http did not answer (see --http-url)", evidence)
    location = response.headers.get("location", "")
    target = httpx.URL(location) if location else None
    evidence = Evidence(evidence.request, response.status_code, f"Location: {location or 'none'}")
    if response.status_code not in (301, 308):
        return Verdict.failed(evidence)
    if target is None or target.scheme != "https" or target.host != ctx.options.host:
        return Verdict.failed(evidence)
    return Verdict.passed(evidence)


@check(
    ROW,
    "https.hsts",
    "HSTS on https answers: max-age of a year or more, includeSubDomains",
    fix="app/core/security_headers.py HSTS; infra/cloudflare/zone_settings.tf security_header",
)
def hsts(ctx: Context) -> Verdict:
    found = samples(ctx)
    response, evidence = found[0]
    if response is None:
        return Verdict.not_checked("the deployment did not answer", evidence)
    value = response.headers.get("strict-transport-security")
    problems = hsts_problems(value)
    evidence = Evidence(evidence.request, evidence.status, "; ".join(problems) or f"HSTS: {value}")
    return Verdict.failed(evidence) if problems else Verdict.passed(evidence)


@check(
    ROW,
    "https.banner",
    "no server banner: no Server version, no X-Powered-By",
    fix="app/serve.py (server_header=False), app/core/security_headers.py (drops Server); "
    "a proxy in front: its server_tokens / header rules",
)
def banner(ctx: Context) -> Verdict:
    evidence, failed = [], False
    for response, seen in samples(ctx):
        if response is None:
            continue
        problems = banner_problems(response)
        failed = failed or bool(problems)
        evidence.append(Evidence(seen.request, seen.status, "; ".join(problems) or "no banner"))
    if not evidence:
        return Verdict.not_checked("the deployment did not answer")
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


@check(
    ROW,
    "https.security_headers",
    "security headers on a 200, a 401, a 404 and a 422 (MDN Observatory rules)",
    fix="app/core/security_headers.py (pure ASGI: every answer, errors included)",
)
def security_headers(ctx: Context) -> Verdict:
    evidence, failed = [], False
    responses = [(r, e) for r, e in samples(ctx) if r is not None]
    if not responses:
        return Verdict.not_checked("the deployment did not answer")
    # CORP/COOP are optional, but a deployment that sets one sets it on every answer.
    for header in ("cross-origin-resource-policy", "cross-origin-opener-policy"):
        present = [header in r.headers for r, _ in responses]
        if any(present) and not all(present):
            failed = True
            evidence.append(Evidence("the four answers", None, f"{header} only on some"))
    for response, seen in responses:
        problems = security_header_problems(response)
        failed = failed or bool(problems)
        evidence.append(Evidence(seen.request, seen.status, "; ".join(problems) or "all present"))
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


@check(
    ROW,
    "https.docs_hidden",
    "/docs, /redoc and /openapi.json are not served in production",
    fix="DOCS_ENABLED=false (docs/configuration.md); production refuses it (check-config)",
)
def docs_hidden(ctx: Context) -> Verdict:
    evidence, failed = [], False
    for path in DOCS_PATHS:
        response, seen = get(ctx, "GET", ctx.url(path))
        if response is None:
            return Verdict.not_checked("the deployment did not answer", seen)
        served = response.is_success
        failed = failed or served
        evidence.append(Evidence(seen.request, seen.status, "served" if served else "not served"))
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


_FIELD = re.compile(r"^([A-Za-z-]+):\s*(.+?)\s*$")


def security_txt_problems(text: str, now: dt.datetime) -> list[str]:
    """RFC 9116: at least one Contact, exactly one Expires in the future (a year at most ahead)."""
    fields: dict[str, list[str]] = {}
    for line in text.splitlines():
        match = _FIELD.match(line)
        if match and not line.startswith("#"):
            fields.setdefault(match.group(1).lower(), []).append(match.group(2))
    problems = []
    contacts = fields.get("contact", [])
    if not contacts:
        problems.append("no Contact")
    elif not all(c.startswith(("mailto:", "https://", "tel:")) for c in contacts):
        problems.append("a Contact is not a mailto:, https:// or tel: URI")
    expires = fields.get("expires", [])
    if len(expires) != 1:
        return [*problems, f"{len(expires)} Expires fields (exactly one is required)"]
    try:
        when = dt.datetime.fromisoformat(expires[0].replace("Z", "+00:00"))
    except ValueError:
        return [*problems, f"Expires {expires[0]!r} is not an RFC 3339 date"]
    if when.tzinfo is None:
        problems.append("Expires has no time zone")
    elif when <= now:
        problems.append(f"expired on {expires[0]}")
    elif when > now + dt.timedelta(days=366):
        problems.append(f"Expires {expires[0]} is more than a year ahead (RFC 9116 2.5.5)")
    return problems


@check(
    ROW,
    "https.security_txt",
    "/.well-known/security.txt is valid per RFC 9116 (Contact, Expires in the future)",
    fix="SECURITY_CONTACT (docs/configuration.md), served by app/disclosure/",
)
def security_txt(ctx: Context) -> Verdict:
    response, seen = get(ctx, "GET", ctx.url(SECURITY_TXT))
    if response is None:
        return Verdict.not_checked("the deployment did not answer", seen)
    if response.status_code != 200:
        return Verdict.failed(Evidence(seen.request, seen.status, "not served"))
    kind = response.headers.get("content-type", "")
    problems = [] if kind.startswith("text/plain") else [f"Content-Type {kind or 'missing'}"]
    problems += security_txt_problems(response.text[:8192], dt.datetime.now(dt.UTC))
    evidence = Evidence(seen.request, seen.status, "; ".join(problems) or "Contact and Expires")
    return Verdict.failed(evidence) if problems else Verdict.passed(evidence)


@check(
    ROW,
    "edge.cloudflare",
    "Cloudflare answers in front of the deployment (cf-ray)",
    fix="docs/deploy.md#cloudflare (infra/cloudflare/tunnel.tf: the proxied record)",
)
def cloudflare(ctx: Context) -> Verdict:
    if not ctx.options.expect_cloudflare:
        return Verdict.not_checked("pass --expect-cloudflare for a deployment behind Cloudflare")
    response, seen = samples(ctx)[0]
    if response is None:
        return Verdict.not_checked("the deployment did not answer", seen)
    ray = response.headers.get("cf-ray")
    evidence = Evidence(seen.request, seen.status, "cf-ray present" if ray else "no cf-ray")
    return Verdict.passed(evidence) if ray else Verdict.failed(evidence)


@check(
    ROW,
    "edge.origin_hidden",
    "the origin does not answer directly (only through the edge)",
    fix="docs/deploy.md#cloudflare: a Tunnel (no published port), or Authenticated Origin Pulls "
    "and a firewall of Cloudflare's ranges",
)
def origin_hidden(ctx: Context) -> Verdict:
    if not ctx.options.origin_url:
        return Verdict.not_checked("pass --origin with the origin's own address to test it")
    url = ctx.options.origin_url.rstrip("/") + "/healthz"
    response, seen = get(ctx, "GET", url, "straight to the origin", timeout=ORIGIN_TIMEOUT)
    if response is None:
        return Verdict.passed(Evidence(seen.request, None, f"unreachable ({seen.detail})"))
    return Verdict.failed(Evidence(seen.request, seen.status, "the origin answered directly"))


@check(
    ROW,
    "edge.internet_only",
    "IPv6, DNSSEC, DANE and RPKI",
    fix="run internet.nl's website test against the public name",
)
def internet_only(ctx: Context) -> Verdict:
    del ctx
    return Verdict.not_checked(
        "outside what this run can see: they need the public DNS with a validating resolver "
        "and the internet's routing table, not the addresses --resolve pins; internet.nl "
        "tests all four"
    )
