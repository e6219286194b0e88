"""Monitoring endpoints as the internet sees them: probes answer and say nothing secret, and
the Prometheus exposition is not public (docs/observability.md).

The uptime checks and alert rules in the source tree (``--repo``) belong to the deployment row.
"""

from __future__ import annotations

import re

from app.core.secret_scan import find_secret_types
from app.scorecard.context import Context
from app.scorecard.https_edge import get
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check

ROW = "https_edge"
PROBES = ("/healthz", "/readyz")
# What a probe must not reveal besides credentials: connection URLs, addresses, tracebacks.
_REVEALING = re.compile(
    r"[a-z][a-z0-9+.-]*://|\b\d{1,3}(?:\.\d{1,3}){3}\b|Traceback|File \"", re.IGNORECASE
)
MAX_PROBE_BODY = 2048


@check(
    ROW,
    "monitoring.probes",
    "/healthz and /readyz answer 200 and reveal nothing (no URL, address, trace or secret)",
    fix="app/health/router.py; docs/observability.md#uptime-checks",
)
def probes(ctx: Context) -> Verdict:
    evidence, failed = [], False
    for path in PROBES:
        response, seen = get(ctx, "GET", ctx.url(path), headers={"Accept": "application/json"})
        if response is None:
            return Verdict.not_checked("the deployment did not answer", seen)
        body = response.text
        problems = [] if response.status_code == 200 else ["not 200"]
        if len(body) > MAX_PROBE_BODY:
            problems.append(f"{len(body)} bytes of body (a probe needs a status, not a report)")
        problems += [f"contains a {kind}" for kind in find_secret_types(body)]
        if _REVEALING.search(body):
            problems.append("names a URL, an address or a stack trace")
        failed = failed or bool(problems)
        evidence.append(
            Evidence(seen.request, seen.status, "; ".join(problems) or "nothing secret")
        )
    return Verdict.failed(*evidence) if failed else Verdict.passed(*evidence)


@check(
    ROW,
    "monitoring.metrics_private",
    "/metrics is not public (401 or 404 without the scraper's token)",
    fix="METRICS_TOKEN (docs/observability.md#metrics, "
    "docs/decisions/0008-metrics-behind-a-token.md)",
)
def metrics_private(ctx: Context) -> Verdict:
    response, seen = get(ctx, "GET", ctx.url("/metrics"), "no token")
    if response is None:
        return Verdict.not_checked("the deployment did not answer", seen)
    hidden = response.status_code in (401, 403, 404)
    detail = "hidden" if hidden else "served without a token"
    evidence = Evidence(seen.request, seen.status, detail)
    return Verdict.passed(evidence) if hidden else Verdict.failed(evidence)
