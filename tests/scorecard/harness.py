"""Run chosen scorecard checks against a server, the way the runner does (budget, cleanups).

H3's runner (``app/scorecard/runner.py``) is the product; this is the smallest loop the access
checks' own tests need, so they do not wait on it: build the context, ask the checks in order,
run the cleanups last-in first-out even after a failure, report what was used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from app.scorecard.context import Account, Context, Options
from app.scorecard.probe import Budget, Probe
from app.scorecard.registry import CHECK_MODULES, CHECKS, Verdict
from app.scorecard.model import Status

ACCESS_MODULES = (
    "app.scorecard.authentication",
    "app.scorecard.authorization",
    "app.scorecard.cors",
    "app.scorecard.input_validation",
    "app.scorecard.secret_exposure",
)


@dataclass
class Run:
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    cleanup_errors: list[str] = field(default_factory=list)

    def status(self, check_id: str) -> Status:
        return self.verdicts[check_id].status

    def report(self, check_id: str) -> str:
        verdict = self.verdicts[check_id]
        lines = [f"{check_id}: {verdict.status} {verdict.why}"]
        lines += ["  " + item.line() for item in verdict.evidence]
        return "\n".join(lines)


def run_checks(
    base_url: str,
    check_ids: list[str],
    *,
    accounts: tuple[Account, ...] = (),
    resolve: dict[str, str] | None = None,
    ca_file: str | None = None,
    max_requests: int = 2000,
    max_seconds: float = 60,
) -> Run:
    for module in dict.fromkeys((*CHECK_MODULES, *ACCESS_MODULES)):
        importlib.import_module(module)
    by_id = {check.id: check for check in CHECKS}
    budget = Budget(max_requests=max_requests, max_seconds=max_seconds)
    probe = Probe(budget, resolve=resolve, ca_file=ca_file)
    ctx = Context(Options(base_url=base_url.rstrip("/"), accounts=accounts), probe)
    run = Run()
    try:
        for check_id in check_ids:
            run.verdicts[check_id] = by_id[check_id].fn(ctx)
    finally:
        while ctx.cleanups:
            try:
                ctx.cleanups.pop()()
            except Exception as exc:  # noqa: BLE001 - reported, the other cleanups still run
                run.cleanup_errors.append(type(exc).__name__)
        run.requests, run.seconds = budget.used, budget.elapsed()
        probe.close()
    return run
