"""The limits, files, logging and latency checks in the full ``launchproof check`` run against
H3's production-mode stack (tests/scorecard/stack.py)."""

from __future__ import annotations

import subprocess

from tests.scorecard.stack import Report, findings

H5_PREFIXES = ("rate_limit.", "files.", "logging.", "latency.", "deployment.")


def test_print(scorecard_report: tuple[subprocess.CompletedProcess[str], Report]) -> None:
    _, report = scorecard_report
    for check_id, finding in findings(report).items():
        if check_id.startswith(H5_PREFIXES):
            print(check_id, finding["status"], finding["why"], finding["evidence"])  # noqa: T201
    print(report["budget"])  # noqa: T201
