"""``python -m app check`` as an operator runs it: usage errors exit 2, a FAIL exits 1 with every
output format written, and the account passwords (read from the environment) never printed."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import trustme

from app.cli import build_parser
from app.scorecard.command import options_from
from tests.scorecard.wrong_server import HOST, Answer, Tls, WrongServer
from tests.support import ROOT


def check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "check", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.checklist("C11", red="a usage error runs the checks or exits 0/1")
@pytest.mark.parametrize(
    "args",
    [
        ("not-a-url",),
        ("ftp://example.test",),
        ("https://example.test", "--account", "a@example.test:LP_CHECK_UNSET_VARIABLE"),
        ("https://example.test", "--account", "no-variable@example.test"),
        ("https://example.test", "--resolve", "example.test"),
        ("https://example.test", "--budget", "login_ip"),
        ("https://example.test", "--max-requests", "0"),
        ("https://example.test", "--format", "xml"),
    ],
)
def test_usage_errors_exit_2_before_any_request(
    args: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    # In-process (the CLI's own parser and command): a subprocess per case costs seconds.
    try:
        parsed = build_parser().parse_args(["check", *args])
        code = parsed.func(parsed)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "error" in captured.err
    assert captured.out == ""  # no report: nothing was asked


@pytest.mark.checklist("C11", red="a FAIL exits 0, or a format file is not written")
def test_a_wrong_server_exits_1_with_markdown_json_and_junit(tmp_path: Path) -> None:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    password = secrets.token_urlsafe(16)
    bare = Answer(200, {"Server": "nginx/1.18.0", "Content-Type": "application/json"}, b"{}")
    with WrongServer(lambda _m, _p: bare, tls=Tls(ca.issue_cert(HOST))) as server:
        result = check(
            server.url,
            "--resolve",
            f"{HOST}=127.0.0.1",
            "--ca-file",
            str(ca_file),
            "--account",
            "a@example.test:LP_TEST_PASSWORD",
            "--json",
            str(tmp_path / "report.json"),
            "--junit",
            str(tmp_path / "report.xml"),
            env={"LP_TEST_PASSWORD": password},
        )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "| HTTPS, monitoring, CDN | FAIL |" in result.stdout
    assert "Budget: " in result.stdout
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["exit_code"] == 1
    statuses = {c["id"]: c["status"] for row in report["rows"] for c in row["checks"]}
    for failed in ("https.hsts", "https.banner", "https.security_headers", "https.docs_hidden"):
        assert statuses[failed] == "FAIL", statuses
    suite = ET.parse(tmp_path / "report.xml").getroot().find("testsuite")  # noqa: S314
    assert suite is not None
    assert int(suite.get("failures", "0")) >= 4
    for text in (result.stdout, result.stderr, (tmp_path / "report.xml").read_text()):
        assert password not in text


@pytest.mark.checklist("C11", red="serve starts with half a TLS configuration")
def test_serve_refuses_a_certificate_without_its_key(capsys: pytest.CaptureFixture[str]) -> None:
    parsed = build_parser().parse_args(["serve", "--ssl-certfile", "cert.pem"])
    assert parsed.func(parsed) == 2
    assert "--ssl-keyfile" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("a@example.test:LP_CHECK_PW:LP_CHECK_UNSET_VARIABLE", "is not set"),
        ("a@example.test:LP_CHECK_PW:LP_CHECK_NOT_BASE32", "is not a base32 TOTP secret"),
        ("a@example.test:LP_CHECK_PW:LP_CHECK_TOTP:extra", "EMAIL:ENVVAR[:TOTPVAR]"),
        ("a@example.test:LP_CHECK_PW:", "EMAIL:ENVVAR[:TOTPVAR]"),
    ],
)
def test_a_bad_totp_variable_is_a_usage_error_that_never_echoes_it(
    account: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # pragma: allowlist nextline secret
    monkeypatch.setenv("LP_CHECK_PW", "a-throwaway-password")
    monkeypatch.setenv("LP_CHECK_NOT_BASE32", "not base32 at all: 0189!")
    monkeypatch.setenv("LP_CHECK_TOTP", "JBSWY3DPEHPK3PXP")
    monkeypatch.delenv("LP_CHECK_UNSET_VARIABLE", raising=False)
    parsed = build_parser().parse_args(["check", "https://example.test", "--account", account])
    code = parsed.func(parsed)
    captured = capsys.readouterr()
    assert code == 2, captured
    assert expected in captured.err
    assert "0189!" not in captured.err
    assert "a-throwaway-password" not in captured.err
    assert captured.out == ""


def test_an_account_takes_an_optional_totp_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # pragma: allowlist nextline secret
    monkeypatch.setenv("LP_CHECK_PW", "a-throwaway-password")
    monkeypatch.setenv("LP_CHECK_TOTP", "jbsw y3dp ehpk 3pxp")  # as apps show it: spaced, lower
    parsed = build_parser().parse_args(
        ["check", "https://example.test", "--account", "a@example.test:LP_CHECK_PW:LP_CHECK_TOTP"]
    )
    parsed.staff_account = "s@example.test:LP_CHECK_PW"
    options = options_from(parsed)
    # pragma: allowlist nextline secret
    assert options.accounts[0].totp_secret == "JBSWY3DPEHPK3PXP"
    assert options.staff_account is not None
    assert options.staff_account.totp_secret is None
    assert "JBSWY3DPEHPK3PXP" not in repr(options)
