"""Each limits, files, logging and latency check FAILs against a server that lacks the
protection (tests/scorecard/limits_wrong_server.py), and says NOT CHECKED when it cannot ask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.scorecard.context import Options
from tests.scorecard.limits_support import TIGHT_BUDGETS, Run, run_checks
from tests.scorecard.limits_wrong_server import Flaws, WrongServer, wrong_server
from tests.support import ROOT

RATE = ("app.scorecard.rate_limiting",)
BURSTS = (
    "rate_limit.login",
    "rate_limit.signup",
    "rate_limit.password_reset",
    "rate_limit.chat_send",
    "rate_limit.upload",
    "rate_limit.webhook",
    "rate_limit.admin",
)
CAP = 1024 * 1024


def options(server: WrongServer, **overrides: object) -> Options:
    values: dict[str, object] = {
        "base_url": server.url,
        "accounts": (server.account,),
        "staff_account": server.account,
        "webhook_source": "billing",
        "log_file": server.log_path,
        "budgets": {**TIGHT_BUDGETS, "max_upload_body_bytes": str(CAP)},
        "p95_samples": 20,
    }
    values.update(overrides)
    return Options(**values)  # type: ignore[arg-type]


def statuses(run: Run, *check_ids: str) -> dict[str, str]:
    return {check_id: run.status(check_id) for check_id in check_ids}


@pytest.mark.checklist("C6", red="a burst check that passes without a 429")
def test_no_rate_limit_fails_every_burst_within_its_cap(tmp_path: Path) -> None:
    with wrong_server(tmp_path, Flaws(rate_limit="none")) as server:
        run = run_checks(options(server), RATE)
    assert statuses(run, *BURSTS) == dict.fromkeys(BURSTS, "FAIL")
    assert "no 429 within 6 requests" in run.evidence("rate_limit.login")  # 3 + 1 + margin 2
    # Never more than budget + 1 + margin: the server counted every refused login it got.
    assert server.counts["login"] == 6
    assert server.counts["upload"] == 8  # 5 + 1 + 2
    assert server.counts["webhook"] == 8  # the first unsigned call included
    assert run.status("rate_limit.restores") == "NOT CHECKED"


@pytest.mark.checklist("C6", red="a 429 without Retry-After or problem+json passes")
def test_a_bare_429_fails(tmp_path: Path) -> None:
    with wrong_server(tmp_path, Flaws(rate_limit="bare")) as server:
        run = run_checks(options(server), RATE)
    assert statuses(run, *BURSTS) == dict.fromkeys(BURSTS, "FAIL")
    evidence = run.evidence("rate_limit.login")
    assert "Retry-After: <missing>" in evidence
    assert "not application/problem+json" in evidence


@pytest.mark.checklist("C6", red="a budget that never restores passes")
def test_a_limit_that_never_lifts_fails_the_restore(tmp_path: Path) -> None:
    with wrong_server(tmp_path, Flaws(rate_limit="forever")) as server:
        run = run_checks(options(server), RATE)
    assert statuses(run, *BURSTS) == dict.fromkeys(BURSTS, "PASS")
    assert run.status("rate_limit.restores") == "FAIL"
    assert "(once more) -> 429" in run.evidence("rate_limit.restores")


def test_without_accounts_or_a_source_the_budgets_that_need_them_are_not_checked(
    tmp_path: Path,
) -> None:
    with wrong_server(tmp_path) as server:
        run = run_checks(
            options(server, accounts=(), staff_account=None, webhook_source=None), RATE
        )
    for check_id in ("rate_limit.chat_send", "rate_limit.upload", "rate_limit.webhook"):
        assert run.status(check_id) == "NOT CHECKED", check_id
    assert "--webhook-source" in run.evidence("rate_limit.webhook")
    assert run.status("rate_limit.admin") == "NOT CHECKED"


@pytest.mark.checklist("C2", "C6", red="an admin answer to a non-staff account passes")
def test_admin_answering_a_non_staff_account_fails(tmp_path: Path) -> None:
    with wrong_server(tmp_path) as server:
        run = run_checks(options(server, staff_account=None), RATE)
    assert run.status("rate_limit.admin") == "FAIL"
    assert "non-staff" in run.evidence("rate_limit.admin")


FILES = ("app.scorecard.file_handling",)
FILE_CHECKS = (
    "files.oversized_streaming",
    "files.eicar_quarantined",
    "files.download_headers",
    "files.html_inert",
)


@pytest.mark.checklist("C8", red="a file check that passes an uncapped, inline-serving server")
def test_uncapped_uploads_and_inline_downloads_fail(tmp_path: Path) -> None:
    with wrong_server(tmp_path, Flaws(inline_html=True)) as server:
        run = run_checks(options(server), FILES)
    assert statuses(run, *FILE_CHECKS) == dict.fromkeys(FILE_CHECKS, "FAIL")
    assert "want 413" in run.evidence("files.oversized_streaming")
    assert "body has EICAR: True" in run.evidence("files.eicar_quarantined")
    assert "Content-Disposition: <missing>" in run.evidence("files.download_headers")
    assert "Content-Type: text/html" in run.evidence("files.html_inert")


@pytest.mark.checklist("C8", red="a 413 sent after the whole body counts as refused in time")
def test_a_413_after_the_whole_body_fails(tmp_path: Path) -> None:
    with wrong_server(tmp_path, Flaws(upload_cap=CAP, inline_html=False)) as server:
        run = run_checks(options(server), FILES)
    assert run.status("files.oversized_streaming") == "FAIL"
    assert "413 only after the whole body" in run.evidence("files.oversized_streaming")
    # Served as attachment with nosniff and a sandbox: only EICAR's download still fails.
    assert run.status("files.download_headers") == "PASS"
    assert run.status("files.eicar_quarantined") == "FAIL"


@pytest.mark.checklist("C13", red="a slow /v1/me passes the p95 budget")
def test_a_slow_api_fails_the_p95_budget(tmp_path: Path) -> None:
    with wrong_server(tmp_path, Flaws(slow_me_seconds=0.6)) as server:
        run = run_checks(options(server), ("app.scorecard.latency",))
        unchecked = run_checks(options(server, accounts=()), ("app.scorecard.latency",))
    assert run.status("latency.p95") == "FAIL"
    assert "n=20" in run.evidence("latency.p95")
    assert unchecked.status("latency.p95") == "NOT CHECKED"


@pytest.mark.checklist("C9", red="a log holding the account's password passes")
def test_a_log_with_the_password_fails_without_printing_it(tmp_path: Path) -> None:
    logging = ("app.scorecard.log_hygiene",)
    with wrong_server(tmp_path) as server:
        # The rate-limit checks sign in first (and log in with the password), then the log is read.
        run = run_checks(options(server), ("app.scorecard.rate_limiting", *logging))
        blind = run_checks(options(server, log_file=None), logging)
    # The check reads the log the run produced: the wrong server logged the login body.
    assert server.account.password in server.log_path.read_text()
    assert run.status("logging.no_secrets") == "FAIL"
    assert "an account password" in run.evidence("logging.no_secrets")
    assert "a canary the run sent" in run.evidence("logging.no_secrets")  # the chat text
    assert server.account.password not in run.evidence("logging.no_secrets")
    assert blind.status("logging.no_secrets") == "NOT CHECKED"
    assert "--log-file" in blind.evidence("logging.no_secrets")


@pytest.mark.checklist("C6", red="--staff-account or --webhook-source not passed to the checks")
def test_the_command_line_gives_the_staff_account_and_webhook_source(tmp_path: Path) -> None:
    with wrong_server(tmp_path) as server:
        argv = [sys.executable, "-m", "app", "check", server.url, "--format", "json"]
        argv += ["--account", f"{server.account.email}:LP_WRONG_PASSWORD"]
        argv += ["--staff-account", f"{server.account.email}:LP_WRONG_PASSWORD"]
        argv += ["--webhook-source", "billing", "--max-seconds", "30"]
        env = {**os.environ, "LP_WRONG_PASSWORD": server.account.password}
        result = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
        )
    found = {c["id"]: c for row in json.loads(result.stdout)["rows"] for c in row["checks"]}
    assert found["rate_limit.admin"]["status"] == "FAIL", found["rate_limit.admin"]
    assert found["rate_limit.webhook"]["status"] == "FAIL", found["rate_limit.webhook"]
    assert server.account.password not in result.stdout
