"""The runner and its output: budget exhaustion, crashing checks, cleanups, exit codes, formats.

The checks here are small functions written for the test (the runner's input), talking to a real
server over real connections; the runner, the probe and the report are the project's own.
"""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest

from app.scorecard.context import Context, Options
from app.scorecard.model import Evidence, Status
from app.scorecard.probe import Budget, Probe
from app.scorecard.registry import Check, Verdict
from app.scorecard.report import as_json, junit, markdown
from app.scorecard.runner import Report, run
from tests.scorecard.wrong_server import HOST, WrongServer, good

SECRET_IN_ERROR = "hunter2-not-a-real-secret"  # pragma: allowlist secret


def _check(check_id: str, fn: object, row: str = "https_edge") -> Check:
    return Check(row, check_id, f"title of {check_id}", f"fix for {check_id}", fn)  # type: ignore[arg-type]


def _run(
    server: WrongServer, checks: list[Check], requests: int = 100, seconds: float = 30
) -> Report:
    probe = Probe(Budget(requests, seconds), resolve={HOST: "127.0.0.1"})
    try:
        return run(Options(base_url=server.url), probe, checks)
    finally:
        probe.close()


def _get(ctx: Context) -> int:
    return ctx.probe.request("GET", ctx.url("/healthz")).status_code


@pytest.fixture
def server() -> Iterator[WrongServer]:
    with WrongServer({"/healthz": good(200)}) as running:
        yield running


@pytest.mark.checklist("C11", red="the runner lets a check run past the budget, or PASSes it")
def test_budget_exhaustion_marks_the_rest_not_checked_and_cleanup_still_runs(
    server: WrongServer,
) -> None:
    calls: list[str] = []

    def first(ctx: Context) -> Verdict:
        ctx.cleanups.append(lambda: calls.append(f"cleanup {_get(ctx)}"))
        return Verdict.passed(Evidence("GET /healthz", _get(ctx)))

    def greedy(ctx: Context) -> Verdict:
        while True:
            _get(ctx)

    def never(ctx: Context) -> Verdict:
        calls.append("never ran")
        return Verdict.passed()

    report = _run(
        server,
        [_check("a.first", first), _check("a.greedy", greedy), _check("a.never", never)],
        requests=20,
    )
    statuses = {f.check: (f.status, f.why) for f in report.findings}
    assert statuses["a.first"][0] is Status.PASS
    assert statuses["a.greedy"][0] is Status.NOT_CHECKED
    assert statuses["a.greedy"][1].startswith("budget spent")
    assert statuses["a.never"] == statuses["a.greedy"]
    assert calls == ["cleanup 200"]  # the reserve let the cleanup's request through
    assert report.requests_used == 19  # 18 for the checks (20 minus a tenth held back) + cleanup
    assert report.exit_code == 0
    assert "Budget: 19 of 20 requests" in markdown(report)
    assert json.loads(as_json(report))["budget"]["requests_used"] == 19


@pytest.mark.checklist("C11", red="the time budget is not enforced")
def test_time_budget(server: WrongServer) -> None:
    def slow(ctx: Context) -> Verdict:
        time.sleep(0.3)
        return Verdict.passed(Evidence("GET", _get(ctx)))

    report = _run(server, [_check("a.slow", slow)], seconds=0.2)
    assert report.findings[0].status is Status.NOT_CHECKED
    assert "time budget" in report.findings[0].why


@pytest.mark.checklist("C11", red="a crashing check crashes the run, or its message is printed")
def test_a_crashing_check_is_reported_with_exit_2_and_the_others_still_run(
    server: WrongServer,
) -> None:
    order: list[str] = []

    def crash(ctx: Context) -> Verdict:
        ctx.cleanups.append(lambda: order.append("undo crash"))
        raise RuntimeError(SECRET_IN_ERROR)

    def after(ctx: Context) -> Verdict:
        ctx.cleanups.append(lambda: order.append("undo after"))
        return Verdict.failed(Evidence("GET /healthz", _get(ctx), "wrong"))

    report = _run(server, [_check("a.crash", crash), _check("a.after", after)])
    assert report.findings[0].status is Status.NOT_CHECKED
    assert report.findings[0].why == "checker error: RuntimeError"
    assert report.findings[1].status is Status.FAIL
    assert report.exit_code == 2
    assert order == ["undo after", "undo crash"]  # last in, first out
    for output in (markdown(report), as_json(report), junit(report)):
        assert SECRET_IN_ERROR not in output
        assert "Traceback" not in output


@pytest.mark.checklist("C11", red="a failed cleanup is silent (throwaway data left behind)")
def test_a_failing_cleanup_is_reported_and_the_others_still_run(server: WrongServer) -> None:
    done: list[str] = []

    def broken_undo() -> None:
        raise ZeroDivisionError

    def creates(ctx: Context) -> Verdict:
        ctx.cleanups.append(lambda: done.append("first"))
        ctx.cleanups.append(broken_undo)
        return Verdict.passed(Evidence("x"))

    report = _run(server, [_check("a.creates", creates)])
    assert done == ["first"]
    assert report.cleanup_errors == ["ZeroDivisionError"]
    assert report.exit_code == 2


@pytest.mark.checklist("C11", red="exit codes or NOT CHECKED without a reason")
def test_exit_codes_and_reasons(server: WrongServer) -> None:
    passing = _run(server, [_check("a.ok", lambda _ctx: Verdict.passed())])
    assert passing.exit_code == 0
    unexplained = _run(server, [_check("a.nc", lambda _ctx: Verdict(Status.NOT_CHECKED))])
    assert unexplained.exit_code == 0
    assert unexplained.findings[0].why  # never silent
    failing = _run(
        server,
        [
            _check("a.ok", lambda _ctx: Verdict.passed()),
            _check("a.bad", lambda _ctx: Verdict.failed()),
        ],
    )
    assert failing.exit_code == 1


@pytest.mark.checklist("C11", red="JUnit counts or shapes drift from the findings")
def test_junit_parses_and_counts(server: WrongServer) -> None:
    checks = [
        _check("j.pass", lambda _ctx: Verdict.passed(Evidence("a"))),
        _check("j.fail", lambda _ctx: Verdict.failed(Evidence("GET /x", 500, "boom"))),
        _check("j.skip", lambda _ctx: Verdict.not_checked("no accounts")),
        _check("j.crash", lambda _ctx: 1 / 0),
        _check("j.dns", lambda _ctx: Verdict.passed(), row="dns_email"),
    ]
    root = ET.fromstring(junit(_run(server, checks)))  # noqa: S314 - our own output
    suite = root.find("testsuite")
    assert suite is not None
    assert (
        suite.get("tests"),
        suite.get("failures"),
        suite.get("skipped"),
        suite.get("errors"),
    ) == ("5", "1", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failure = cases["j.fail"].find("failure")
    assert failure is not None
    assert "GET /x -> 500 (boom)" in (failure.text or "")
    assert "fix for j.fail" in (failure.text or "")
    assert cases["j.skip"].find("skipped") is not None
    assert cases["j.crash"].find("error") is not None
    assert cases["j.dns"].get("classname") == "dns_email"


@pytest.mark.checklist("C11", red="the Markdown table loses rows, statuses or evidence")
def test_markdown_table(server: WrongServer) -> None:
    checks = [
        _check("m.fail", lambda _ctx: Verdict.failed(Evidence("GET /a|b", 200, "served"))),
        _check("m.dns", lambda _ctx: Verdict.not_checked("pass --domain"), row="dns_email"),
    ]
    text = markdown(_run(server, checks))
    assert "| row | status | checks | evidence | fix |" in text
    assert "| DNS and e-mail | NOT CHECKED | 1 not checked | m.dns: pass --domain |  |" in text
    assert (
        "| HTTPS, monitoring, CDN | FAIL | 1 fail | m.fail: GET /a\\|b -> 200 (served) "
        "| fix for m.fail |" in text
    )
    assert text.index("DNS and e-mail") < text.index("HTTPS, monitoring, CDN")  # ROWS order
