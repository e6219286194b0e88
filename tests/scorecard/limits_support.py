"""Running the limits/files/logging/latency/deployment checks in tests, and the tight budgets
a stack needs so that every burst and restore fits the 60 s run.

``run_checks`` asks the registered checks of the given modules the way the runner does
(budgeted probe, shared state, cleanups last-in first-out even after a failure) and returns the
verdicts by check id with the requests and seconds used; H3's runner does the same for the
whole scorecard (this helper keeps these tests independent of the report format).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field

from app.scorecard.context import Context, Options
from app.scorecard.probe import Budget, Probe
from app.scorecard.registry import CHECKS, Verdict

MODULES = (
    "app.scorecard.rate_limiting",
    "app.scorecard.file_handling",
    "app.scorecard.log_hygiene",
    "app.scorecard.latency",
    "app.scorecard.deployment",
)

# Budgets for a loopback stack: small, with 5 s windows so one wait restores them all. The same
# notation goes to the server (RATE_LIMIT_*) and to the check (Options.budgets).
TIGHT_BUDGETS = {
    "login_account": "3/5seconds",
    "login_ip": "20/5seconds",
    "signup_ip": "3/5seconds",
    "password_reset_account": "3/5seconds",
    "password_reset_ip": "5/5seconds",
    "chat_send": "3/5seconds",
    "upload": "5/5seconds",
    "webhook": "5/5seconds",
    "admin": "3/5seconds",
}
UPLOAD_CAP = 1024 * 1024


def server_env(budgets: dict[str, str]) -> dict[str, str]:
    return {f"RATE_LIMIT_{name.upper()}": value for name, value in budgets.items()}


@dataclass
class Run:
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    cleanup_errors: list[str] = field(default_factory=list)

    def status(self, check_id: str) -> str:
        return str(self.verdicts[check_id].status)

    def evidence(self, check_id: str) -> str:
        verdict = self.verdicts[check_id]
        return verdict.why + " | " + " | ".join(e.line() for e in verdict.evidence)


def run_checks(
    options: Options,
    modules: tuple[str, ...] = MODULES,
    max_requests: int = 2000,
    only: tuple[str, ...] = (),
) -> Run:
    """Ask the checks of ``modules`` (``only`` these ids, when given) against one probe."""
    for module in modules:
        importlib.import_module(module)
    probe = Probe(Budget(max_requests, 60.0))
    ctx = Context(options=options, probe=probe)
    run = Run()
    started = time.monotonic()
    try:
        chosen = [c for c in CHECKS if c.fn.__module__ in modules and (not only or c.id in only)]
        # Module order as given (then registration order), like CHECK_MODULES for the runner.
        for check in sorted(chosen, key=lambda c: modules.index(c.fn.__module__)):
            run.verdicts[check.id] = check.fn(ctx)
    finally:
        while ctx.cleanups:
            try:
                ctx.cleanups.pop()()
            except Exception as exc:
                run.cleanup_errors.append(type(exc).__name__)
        run.requests = probe.budget.used
        run.seconds = time.monotonic() - started
        probe.close()
    return run
