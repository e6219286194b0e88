"""Run the registered checks in report order, within the budget, and always clean up.

A check that spends the last of the budget, and every check after it, says NOT CHECKED "budget
spent" (they were not asked, so they cannot pass). A check that raises anything else is a bug in
the checker, not a finding about the deployment: NOT CHECKED "checker error: <type>" and exit
code 2, never a traceback (the message is not printed: it could quote a response). Cleanups run
last-in first-out after every check, on a small request allowance held back from the checks, so
whatever the run created is removed even when the budget ran out.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.scorecard.context import Context, Options
from app.scorecard.model import Finding, Status
from app.scorecard.probe import BudgetExhausted, Probe
from app.scorecard.registry import CHECK_MODULES, CHECKS, Check, Verdict

# Held back from the checks for the cleanups: requests (at most a tenth of the budget), and
# seconds past the time budget.
CLEANUP_REQUESTS = 50
CLEANUP_SECONDS = 15.0
BUDGET_SPENT = "budget spent"


@dataclass
class Report:
    """Everything the output formats print."""

    target: str
    findings: list[Finding]
    requests_used: int
    max_requests: int
    seconds_used: float
    max_seconds: float
    checker_errors: list[str] = field(default_factory=list)  # check ids that raised
    cleanup_errors: list[str] = field(default_factory=list)  # "<type>" per failed undo step

    @property
    def exit_code(self) -> int:
        """2 when the checker itself failed, else 1 on any FAIL, else 0."""
        if self.checker_errors or self.cleanup_errors:
            return 2
        return 1 if any(f.status is Status.FAIL for f in self.findings) else 0


def load_checks() -> list[Check]:
    """Import every module in CHECK_MODULES (they register on import), in report order."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    order = {module: index for index, module in enumerate(CHECK_MODULES)}
    return sorted(CHECKS, key=lambda c: order.get(c.fn.__module__, len(order)))


def _finding(check: Check, verdict: Verdict) -> Finding:
    return Finding(
        row=check.row,
        check=check.id,
        title=check.title,
        status=verdict.status,
        evidence=list(verdict.evidence),
        fix=check.fix,
        why=verdict.why,
    )


def _ask(check: Check, ctx: Context) -> tuple[Verdict, bool]:
    """(verdict, checker_error)."""
    try:
        verdict = check.fn(ctx)
    except BudgetExhausted as exc:
        return Verdict.not_checked(f"{BUDGET_SPENT} ({exc})"), False
    except Exception as exc:  # any bug in a check becomes a row, not a crash
        return Verdict.not_checked(f"checker error: {type(exc).__name__}"), True
    if verdict.status is Status.NOT_CHECKED and not verdict.why:
        verdict.why = "the check gave no reason"
    return verdict, False


def _clean_up(ctx: Context, reserve: int) -> list[str]:
    errors: list[str] = []
    budget = ctx.probe.budget
    budget.max_requests += reserve
    budget.max_seconds = max(budget.max_seconds, budget.elapsed()) + CLEANUP_SECONDS
    while ctx.cleanups:
        undo = ctx.cleanups.pop()
        try:
            undo()
        except Exception as exc:  # one failed undo must not stop the others
            errors.append(type(exc).__name__)
    return errors


def run(options: Options, probe: Probe, checks: Sequence[Check] | None = None) -> Report:
    """Ask every check (all registered ones by default) and return the report."""
    checks = load_checks() if checks is None else list(checks)
    budget = probe.budget
    max_requests, max_seconds = budget.max_requests, budget.max_seconds
    reserve = min(CLEANUP_REQUESTS, max_requests // 10)
    budget.max_requests = max_requests - reserve
    ctx = Context(options=options, probe=probe)
    findings: list[Finding] = []
    errors: list[str] = []
    spent = ""
    try:
        for check in checks:
            if spent:
                findings.append(_finding(check, Verdict.not_checked(spent)))
                continue
            verdict, crashed = _ask(check, ctx)
            if crashed:
                errors.append(check.id)
            if verdict.why.startswith(BUDGET_SPENT):
                spent = verdict.why
            findings.append(_finding(check, verdict))
    finally:
        cleanup_errors = _clean_up(ctx, reserve)
    seconds = budget.elapsed()
    used = budget.used
    budget.max_requests, budget.max_seconds = max_requests, max_seconds
    return Report(
        target=options.base_url,
        findings=findings,
        requests_used=used,
        max_requests=max_requests,
        seconds_used=round(seconds, 2),
        max_seconds=max_seconds,
        checker_errors=errors,
        cleanup_errors=cleanup_errors,
    )
