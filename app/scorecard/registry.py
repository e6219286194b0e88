"""Checks register here with their row, id, title and fix path; the runner asks them in order.

A check is a plain function ``(Context) -> Verdict``. Modules listed in ``CHECK_MODULES`` are
imported by the runner, so the order of that list is the order of the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.scorecard.context import Context
from app.scorecard.model import ROW_IDS, Evidence, Status


@dataclass
class Verdict:
    status: Status
    evidence: list[Evidence] = field(default_factory=list)
    why: str = ""  # required for NOT CHECKED

    @classmethod
    def passed(cls, *evidence: Evidence) -> Verdict:
        return cls(Status.PASS, list(evidence))

    @classmethod
    def failed(cls, *evidence: Evidence) -> Verdict:
        return cls(Status.FAIL, list(evidence))

    @classmethod
    def not_checked(cls, why: str, *evidence: Evidence) -> Verdict:
        return cls(Status.NOT_CHECKED, list(evidence), why)


CheckFn = Callable[[Context], Verdict]


@dataclass(frozen=True)
class Check:
    row: str
    id: str
    title: str
    fix: str
    fn: CheckFn


CHECKS: list[Check] = []


def check(row: str, check_id: str, title: str, *, fix: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as check ``check_id`` of scorecard row ``row``."""
    if row not in ROW_IDS:
        raise ValueError(f"unknown scorecard row {row!r}")

    def register(fn: CheckFn) -> CheckFn:
        if any(existing.id == check_id for existing in CHECKS):
            raise ValueError(f"duplicate check id {check_id!r}")
        CHECKS.append(Check(row, check_id, title, fix, fn))
        return fn

    return register


# The check modules, in report order. Each imports ``check`` and registers on import.
CHECK_MODULES: tuple[str, ...] = (
    # Access (H4): authentication, authorization, cors, input_validation, secrets.
    "app.scorecard.authentication",
    "app.scorecard.authorization",
    "app.scorecard.cors",
    "app.scorecard.input_validation",
    "app.scorecard.secret_exposure",
    "app.scorecard.dns_email",  # H3
    "app.scorecard.https_edge",  # H3
    "app.scorecard.tls",  # H3
    "app.scorecard.monitoring",  # H3
)
