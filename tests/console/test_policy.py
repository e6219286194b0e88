"""The console's browser-security headers and its CSP report sink (C5, C7).

The headers are read off the wire; then Chromium proves they bite: markup cannot be parsed
into the page (Trusted Types), an inline script does not run, and the violation reaches the
report endpoint and its counter. The sink itself is public, so bad input gets problem+json.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.console.browser import Watched
from tests.console.conftest import csp_reports_counted
from tests.support import Database, Server, Stub, base_env, start_server, stop_server

REPORT = "/console/csp-reports"
VIOLATION = {"csp-report": {"effective-directive": "script-src-elem", "blocked-uri": "inline"}}


@pytest.mark.checklist("C5", red="the console's CSP loses a directive or gains unsafe-inline")
def test_the_shell_carries_a_strict_policy(console: Server) -> None:
    response = httpx.get(console.url + "/")
    csp = {
        part.strip().split(" ", 1)[0]: part.strip()
        for part in response.headers["content-security-policy"].split(";")
    }
    assert csp["default-src"] == "default-src 'none'"
    assert csp["script-src"] == "script-src 'self'"
    assert csp["style-src"] == "style-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["require-trusted-types-for"] == "require-trusted-types-for 'script'"
    assert csp["trusted-types"] == "trusted-types 'none'"
    assert csp["base-uri"] == "base-uri 'none'"
    assert "unsafe" not in response.headers["content-security-policy"]
    assert csp["report-uri"] == f"report-uri {REPORT}"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    # The shell has no inline script or style at all, so nothing would need a nonce or hash.
    assert "<script>" not in response.text
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", response.text)
    asset = httpx.get(console.url + "/console/assets/main.js")
    assert asset.headers["content-type"].startswith("text/javascript")
    missing = httpx.get(console.url + "/console/assets/..%2fpolicy.py")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    api = httpx.get(console.url + "/healthz")  # the API keeps its own, stricter policy
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.checklist("C5", red="Trusted Types or the CSP dropped from the console's headers")
def test_injected_markup_and_inline_script_are_blocked_and_reported(
    tab: Watched, console: Server
) -> None:
    """Positive control for every "no violation" assertion in this package: a sink is used on
    purpose; the browser refuses it, the watcher sees it and the server counts the report."""
    before = csp_reports_counted(console)
    page = tab.page("/")
    page.wait_for_selector("#signin-form")
    outcome = page.evaluate(
        """() => {
            const results = [];
            try { document.body.innerHTML = '<img src=x onerror="window.__pwned=1">'; }
            catch (e) { results.push(e.name); }
            const s = document.createElement('script');
            try { s.textContent = 'window.__pwned = 1'; document.body.append(s); }
            catch (e) { results.push(e.name); }
            return results;
        }"""
    )
    assert outcome == ["TypeError", "TypeError"]  # both sinks demand a TrustedHTML/Script
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    assert any(v.startswith("require-trusted-types-for") for v in tab.violations), tab.violations
    deadline = time.monotonic() + 10  # report-uri: sent at once, one POST per violation
    while csp_reports_counted(console) <= before and time.monotonic() < deadline:
        time.sleep(1)
    assert csp_reports_counted(console) > before


@pytest.mark.checklist("C11", red="the sink stops counting a report format")
def test_the_report_sink_counts_both_formats(console: Server) -> None:
    before = csp_reports_counted(console)
    legacy = httpx.post(
        console.url + REPORT,
        content=json.dumps(VIOLATION),
        headers={"Content-Type": "application/csp-report"},
    )
    assert legacy.status_code == 204
    modern = httpx.post(
        console.url + REPORT,
        content=json.dumps([{"type": "csp-violation", "body": {"effectiveDirective": "x"}}] * 2),
        headers={"Content-Type": "application/reports+json"},
    )
    assert modern.status_code == 204
    assert csp_reports_counted(console) == before + 3


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"not json", "application/csp-report", 400, "csp_report_invalid"),
        (b'{"nested": [[[[]]]]}', "application/csp-report", 400, "csp_report_invalid"),
        (b'[{"type": "other", "body": {}}]', "application/reports+json", 400, "csp_report_invalid"),
        (b"[" + b"{}," * 30 + b"{}]", "application/reports+json", 400, "csp_report_invalid"),
        (json.dumps(VIOLATION).encode(), "text/plain", 415, "csp_report_media_type"),
        (b'{"csp-report": "' + b"x" * 9000 + b'"}', "application/csp-report", 413, None),
    ],
)
@pytest.mark.checklist("C7", red="the sink parses without a cap or echoes a 500")
def test_bad_reports_get_a_problem(
    console: Server, body: bytes, content_type: str, status: int, code: str | None
) -> None:
    response = httpx.post(
        console.url + REPORT, content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if code is not None:
        assert response.json()["code"] == code


@pytest.mark.checklist("C6", red="the report sink has no per-IP budget")
def test_the_report_sink_is_rate_limited(db: Database, stub: Stub, tmp_path: Path) -> None:
    env = base_env(db, OPENAI_BASE_URL=stub.base_url, RATE_LIMIT_CSP_REPORT="3/minute")
    server = start_server(env, tmp_path / "server.log")
    try:
        answers = [
            httpx.post(
                server.url + REPORT,
                content=json.dumps(VIOLATION),
                headers={"Content-Type": "application/csp-report"},
            )
            for _ in range(5)
        ]
    finally:
        stop_server(server)
    assert [a.status_code for a in answers] == [204, 204, 204, 429, 429]
    assert answers[-1].headers["content-type"] == "application/problem+json"
    assert int(answers[-1].headers["retry-after"]) >= 1
