"""What a check reports: one finding per check, grouped into the scorecard's rows.

A row is one line of the launch checklist's quick scorecard (``ROWS``); a check is one question
asked of the deployment (``https.redirect``, ``cors.lookalike_origin``). A check that could not
ask its question (no test accounts, budget spent, option not given) says NOT CHECKED and why,
never PASS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    FAIL = "FAIL"
    NOT_CHECKED = "NOT CHECKED"


@dataclass(frozen=True)
class Row:
    """One scorecard row and the checklist criteria (``C1``..``C14``) it reports on."""

    id: str
    title: str
    criteria: tuple[str, ...]


# The quick scorecard's rows, in the order they print (../shared/CHECKLIST.md).
ROWS: tuple[Row, ...] = (
    Row("authentication", "Authentication", ("C1",)),
    Row("authorization", "Authorization", ("C2",)),
    Row("secrets", "Secrets handling", ("C4",)),
    Row("cors", "CORS policy, cookies, storage", ("C5",)),
    Row("rate_limiting", "Rate limiting", ("C6",)),
    Row("input_validation", "Input validation", ("C7",)),
    Row("file_handling", "File handling", ("C8",)),
    Row("logging", "Logging hygiene", ("C9",)),
    Row("dns_email", "DNS and e-mail", ("C10",)),
    Row("https_edge", "HTTPS, monitoring, CDN", ("C11",)),
    Row("latency", "Latency (p95 budget)", ("C13",)),
    Row("deployment", "Deployment (source tree)", ("C14",)),
)
ROW_IDS = frozenset(row.id for row in ROWS)


@dataclass(frozen=True)
class Evidence:
    """What was sent and what came back, in a line a reviewer can replay (never a secret)."""

    request: str  # "GET https://host/v1/me (no credential)"
    status: int | None = None  # HTTP status, None for non-HTTP evidence (TLS, DNS, files)
    detail: str = ""  # the header, value or reason that decided the check

    def line(self) -> str:
        status = "" if self.status is None else f" -> {self.status}"
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.request}{status}{detail}"


@dataclass
class Finding:
    """The answer to one check."""

    row: str  # a Row.id
    check: str  # dotted id, unique: "https.redirect"
    title: str  # one line: "plain http redirects to https"
    status: Status
    evidence: list[Evidence] = field(default_factory=list)
    fix: str = ""  # where to look when it fails: a setting, a file, a doc section
    why: str = ""  # NOT CHECKED: the reason (option missing, budget spent, ...)

    def __post_init__(self) -> None:
        if self.row not in ROW_IDS:
            raise ValueError(f"unknown scorecard row {self.row!r}")


def row_status(findings: list[Finding]) -> Status:
    """FAIL if any check failed; PASS if at least one passed and none failed; else NOT CHECKED."""
    statuses = {finding.status for finding in findings}
    if Status.FAIL in statuses:
        return Status.FAIL
    if Status.PASS in statuses:
        return Status.PASS
    return Status.NOT_CHECKED
