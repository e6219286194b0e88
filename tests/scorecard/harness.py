"""Run chosen scorecard checks against a server through the real runner (budget, cleanups)."""

from __future__ import annotations

from app.scorecard.context import Account, Options
from app.scorecard.model import Finding, Status
from app.scorecard.probe import Budget, Probe
from app.scorecard.runner import Report, load_checks, run


def run_checks(
    base_url: str,
    check_ids: list[str] | None = None,
    *,
    accounts: tuple[Account, ...] = (),
    resolve: dict[str, str] | None = None,
    ca_file: str | None = None,
    max_requests: int = 2000,
    max_seconds: float = 60,
) -> Report:
    """The runner's report for ``check_ids`` (default: every access check), in report order."""
    checks = [
        check
        for check in load_checks()
        if (check_ids is None and check.row in ACCESS_ROWS) or (check_ids and check.id in check_ids)
    ]
    probe = Probe(Budget(max_requests, max_seconds), resolve=resolve, ca_file=ca_file)
    try:
        return run(Options(base_url=base_url.rstrip("/"), accounts=accounts), probe, checks)
    finally:
        probe.close()


ACCESS_ROWS = frozenset({"authentication", "authorization", "cors", "input_validation", "secrets"})


def finding(report: Report, check_id: str) -> Finding:
    return next(f for f in report.findings if f.check == check_id)


def status(report: Report, check_id: str) -> Status:
    return finding(report, check_id).status


def describe(found: Finding) -> str:
    lines = [f"{found.check}: {found.status} {found.why}"]
    return "\n".join(lines + ["  " + item.line() for item in found.evidence])
