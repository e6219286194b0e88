"""Latency (C13): the p95 of a bounded sample of non-model requests against the 500 ms budget.

Signed in as the first account, ``--p95-samples`` requests (default 60) alternate between
``GET /v1/me`` and ``GET /v1/workspaces`` (a list); each is timed from send to the last byte.
Only answered requests (2xx) count; the sample size, p50, p95 and max are printed. The p95 is the
nearest-rank percentile: with 60 samples, the 57th fastest.
"""

from __future__ import annotations

import math
import time

from app.scorecard.context import Context
from app.scorecard.model import Evidence
from app.scorecard.registry import Verdict, check
from app.scorecard.session import signed_in

BUDGET_MS = 500.0
PATHS = ("/v1/me", "/v1/workspaces")
FIX = "docs/performance.md (database pool, indexes, workers)"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@check("latency", "latency.p95", "p95 of /v1/me and a list route is under 500 ms", fix=FIX)
def p95(ctx: Context) -> Verdict:
    session = signed_in(ctx, 0)
    if session is None:
        return Verdict.not_checked("needs --account (latency is measured signed in)")
    timings: list[float] = []
    statuses: dict[int, int] = {}
    for index in range(ctx.options.p95_samples):
        path = PATHS[index % len(PATHS)]
        started = time.perf_counter()
        response = session.request("GET", path)
        elapsed = (time.perf_counter() - started) * 1000
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if 200 <= response.status_code < 300:
            timings.append(elapsed)
    counts = ", ".join(f"{code}x{count}" for code, count in sorted(statuses.items()))
    sent = f"GET {' and GET '.join(PATHS)} x{ctx.options.p95_samples} (signed in)"
    if len(timings) < max(20, ctx.options.p95_samples // 2):
        return Verdict.not_checked(
            f"only {len(timings)} answered requests", Evidence(sent, None, counts)
        )
    p50, p95_ms, worst = percentile(timings, 0.5), percentile(timings, 0.95), max(timings)
    detail = (
        f"n={len(timings)} ({counts}); p50 {p50:.0f} ms, p95 {p95_ms:.0f} ms, max {worst:.0f} ms;"
        f" budget {BUDGET_MS:.0f} ms"
    )
    evidence = Evidence(sent, None, detail)
    return Verdict.passed(evidence) if p95_ms <= BUDGET_MS else Verdict.failed(evidence)
