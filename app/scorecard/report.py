"""The report in three shapes: a Markdown table for people, JSON for tools, JUnit XML for CI.

All three say the same thing: per row the status, per check the evidence and the fix path, and
the request and time budget used. Nothing here adds information a check did not give, so a
secret can only appear if a check put it in its evidence (checks never do).
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from app.scorecard.model import ROWS, Finding, Status, row_status
from app.scorecard.runner import Report


def _cell(text: str) -> str:
    """Markdown table cells: one line, no column breaks."""
    return " ".join(text.split()).replace("|", "\\|")


def budget_line(report: Report) -> str:
    return (
        f"Budget: {report.requests_used} of {report.max_requests} requests, "
        f"{report.seconds_used:.1f} of {report.max_seconds:.0f} s"
    )


def _by_row(report: Report) -> list[tuple[str, str, list[Finding]]]:
    rows = []
    for row in ROWS:
        findings = [f for f in report.findings if f.row == row.id]
        if findings:
            rows.append((row.id, row.title, findings))
    return rows


def _counts(findings: list[Finding]) -> str:
    parts = []
    for status in Status:
        count = sum(1 for f in findings if f.status is status)
        if count:
            parts.append(f"{count} {status.value.lower()}")
    return ", ".join(parts)


def _row_summary(findings: list[Finding]) -> tuple[str, str]:
    """(evidence, fix) for the table: the first failing check's, else the first reason."""
    failed = [f for f in findings if f.status is Status.FAIL]
    if failed:
        first = failed[0]
        evidence = first.evidence[0].line() if first.evidence else first.title
        fixes = "; ".join(dict.fromkeys(f.fix for f in failed if f.fix))
        return f"{first.check}: {evidence}", fixes
    unchecked = [f for f in findings if f.status is Status.NOT_CHECKED]
    if unchecked and not any(f.status is Status.PASS for f in findings):
        return f"{unchecked[0].check}: {unchecked[0].why}", ""
    return "", ""


def markdown(report: Report) -> str:
    lines = [
        f"# launchproof check: {report.target}",
        "",
        "| row | status | checks | evidence | fix |",
        "| --- | --- | --- | --- | --- |",
    ]
    for _row_id, title, findings in _by_row(report):
        evidence, fix = _row_summary(findings)
        status = row_status(findings).value
        cells = (_cell(title), status, _counts(findings), _cell(evidence), _cell(fix))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", budget_line(report)]
    if report.checker_errors:
        lines.append(f"Checker errors (exit 2): {', '.join(report.checker_errors)}")
    if report.cleanup_errors:
        lines.append(f"Cleanup errors (exit 2): {', '.join(report.cleanup_errors)}")
    for _row_id, title, findings in _by_row(report):
        lines += ["", f"## {title}", ""]
        for finding in findings:
            lines.append(f"- **{finding.status.value}** `{finding.check}`: {finding.title}")
            if finding.why:
                lines.append(f"  - why: {finding.why}")
            lines.extend(f"  - {evidence.line()}" for evidence in finding.evidence)
            if finding.status is Status.FAIL and finding.fix:
                lines.append(f"  - fix: {finding.fix}")
    return "\n".join(lines) + "\n"


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "target": report.target,
        "exit_code": report.exit_code,
        "budget": {
            "requests_used": report.requests_used,
            "max_requests": report.max_requests,
            "seconds_used": report.seconds_used,
            "max_seconds": report.max_seconds,
        },
        "checker_errors": report.checker_errors,
        "cleanup_errors": report.cleanup_errors,
        "rows": [
            {
                "id": row_id,
                "title": title,
                "status": row_status(findings).value,
                "checks": [
                    {
                        "id": f.check,
                        "title": f.title,
                        "status": f.status.value,
                        "why": f.why,
                        "fix": f.fix,
                        "evidence": [
                            {"request": e.request, "status": e.status, "detail": e.detail}
                            for e in f.evidence
                        ],
                    }
                    for f in findings
                ],
            }
            for row_id, title, findings in _by_row(report)
        ],
    }


def as_json(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2) + "\n"


def junit(report: Report) -> str:
    """One testcase per check: FAIL is a failure, NOT CHECKED a skip, a checker error an error."""
    failures = sum(1 for f in report.findings if f.status is Status.FAIL)
    errors = set(report.checker_errors)
    skipped = sum(
        1 for f in report.findings if f.status is Status.NOT_CHECKED and f.check not in errors
    )
    suite = ET.Element(
        "testsuite",
        name="launchproof check",
        tests=str(len(report.findings)),
        failures=str(failures),
        errors=str(len(errors)),
        skipped=str(skipped),
        time=f"{report.seconds_used:.2f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", report.target),
        ("requests_used", str(report.requests_used)),
        ("max_requests", str(report.max_requests)),
        ("max_seconds", f"{report.max_seconds:.0f}"),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    for finding in report.findings:
        case = ET.SubElement(suite, "testcase", classname=finding.row, name=finding.check)
        evidence = "\n".join(e.line() for e in finding.evidence)
        if finding.status is Status.FAIL:
            failure = ET.SubElement(case, "failure", message=finding.title)
            failure.text = evidence + (f"\nfix: {finding.fix}" if finding.fix else "")
        elif finding.check in errors:
            ET.SubElement(case, "error", message=finding.why)
        elif finding.status is Status.NOT_CHECKED:
            ET.SubElement(case, "skipped", message=finding.why)
        if evidence and finding.status is not Status.FAIL:
            ET.SubElement(case, "system-out").text = evidence
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


FORMATS = {"md": markdown, "json": as_json, "junit": junit}
