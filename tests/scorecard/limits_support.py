"""Running the limits/files/logging/latency/deployment checks in tests, and the tight budgets
a stack needs so that every burst and restore fits the 60 s run.

``run_checks`` gives chosen checks to the real runner and returns its findings by check id,
with the requests and seconds used and any checker or cleanup error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.scorecard.context import Options
from app.scorecard.model import Finding
from app.scorecard.probe import Budget, Probe
from app.scorecard.runner import load_checks, run

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
    # pragma: allowlist nextline secret
    "password_reset_account": "3/5seconds",
    # pragma: allowlist nextline secret
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
    verdicts: dict[str, Finding] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    checker_errors: list[str] = field(default_factory=list)
    cleanup_errors: list[str] = field(default_factory=list)

    def status(self, check_id: str) -> str:
        return str(self.verdicts[check_id].status)

    def evidence(self, check_id: str) -> str:
        finding = self.verdicts[check_id]
        return finding.why + " | " + " | ".join(e.line() for e in finding.evidence)


def run_checks(
    options: Options,
    modules: tuple[str, ...] = MODULES,
    max_requests: int = 2000,
    only: tuple[str, ...] = (),
) -> Run:
    """The real runner (budget, cleanups last-in first-out) on the checks of ``modules`` (``only``
    these ids, when given), in report order."""
    checks = [c for c in load_checks() if c.fn.__module__ in modules and (not only or c.id in only)]
    probe = Probe(Budget(max_requests, 60.0))
    try:
        report = run(options, probe, checks)
    finally:
        probe.close()
    return Run(
        verdicts={finding.check: finding for finding in report.findings},
        requests=report.requests_used,
        seconds=report.seconds_used,
        checker_errors=report.checker_errors,
        cleanup_errors=report.cleanup_errors,
    )
