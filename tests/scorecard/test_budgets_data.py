"""The checker's copy of the documented rate limits matches the code, and its notation parser
reads what the limiter reads."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib

import pytest
from limits import parse_many

from app.scorecard.budgets import bundled, canonical, documented, documented_size, parse
from tests.scorecard.budgets_data import TARGET, render
from tests.support import ROOT


@pytest.mark.checklist("C6", red="a budget default changed without regenerating budgets.json")
def test_bundled_budgets_match_the_settings() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(), (
        "app/scorecard/data/budgets.json is stale: python -m tests.scorecard.budgets_data"
    )


@pytest.mark.parametrize(
    "notation", ["5/minute", "5/minute;30/hour", "3 per 10 seconds", "3/5seconds", "200/day"]
)
def test_the_parser_agrees_with_limits(notation: str) -> None:
    ours = parse("x", notation).windows
    theirs = parse_many(notation)
    assert [(w.count, w.seconds) for w in ours] == [
        (item.amount, item.get_expiry()) for item in theirs
    ]


def test_every_default_parses_and_overrides_take_any_spelling() -> None:
    limits = documented({})
    assert {entry["name"] for entry in bundled()} == set(limits)
    assert limits["login_account"].allowed == 5
    for spelling in ("RATE_LIMIT_LOGIN_IP", "login.ip", "login_ip"):
        assert canonical(spelling) == "login_ip"
        assert documented({spelling: "7/minute"})["login_ip"].allowed == 7
    assert canonical("upload.user") == "upload"
    assert documented_size({}, "max_upload_body_bytes") == 25 * 1024 * 1024
    assert documented_size({"MAX_UPLOAD_BODY_BYTES": "2048"}, "max_upload_body_bytes") == 2048


def test_an_unknown_budget_or_notation_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown budget"):
        documented({"logn_ip": "5/minute"})
    with pytest.raises(ValueError, match="limits notation"):
        documented({"login_ip": "five a minute"})


def test_the_budgets_ship_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["app.scorecard"]
    assert any(fnmatch.fnmatch("data/budgets.json", pattern) for pattern in patterns)


def test_a_bad_budget_is_a_usage_error_before_any_request() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "check",
            "https://unused.invalid",
            "--budget",
            "logn=5/minute",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "unknown budget" in result.stderr
