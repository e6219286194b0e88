"""Each access check FAILs against a server with exactly its fault, and PASSes without it.

``access_imitation`` imitates the public contract in memory; with no fault every access check
PASSes against it (the control), so each FAIL below is caused by the one fault switched on. The
checks run through the real runner (``tests/scorecard/harness.py``).
"""

from __future__ import annotations

import pytest

from app.scorecard.context import Account
from app.scorecard.model import Status
from app.scorecard.runner import Report
from app.scorecard.session import Session
from tests.scorecard.access_imitation import FAULTS, Imitation, serve_imitation
from tests.scorecard.harness import describe, finding, run_checks

ACCOUNTS = (
    Account("a@example.com", "pw-" + "a" * 16),  # pragma: allowlist secret
    Account("b@example.com", "pw-" + "b" * 16),  # pragma: allowlist secret
)
NEEDS_NO_ACCOUNT = {
    "authentication.private_routes",
    "cors.lookalike_origins",
    "cors.no_wildcard_with_credentials",
    "input_validation.public_route",
    "secrets.error_responses",
    "secrets.openapi_examples",
}
# fault -> (checklist row, the checks it must turn red)
CAUGHT_BY: dict[str, tuple[str, tuple[str, ...]]] = {
    "cors_reflect": ("C5", ("cors.lookalike_origins",)),
    "cors_wildcard": ("C5", ("cors.no_wildcard_with_credentials", "cors.lookalike_origins")),
    "open_route": ("C1", ("authentication.private_routes",)),
    "telling_401": ("C1", ("authentication.private_routes",)),
    "revoked_key_works": ("C1", ("authentication.revoked_api_key",)),
    "logout_noop": ("C1", ("authentication.signed_out_cookie",)),
    "idor": ("C2", ("authorization.foreign_ids",)),
    "idor_body": ("C2", ("authorization.foreign_ids",)),
    "sequential_ids": ("C2", ("authorization.unguessable_ids",)),
    "weak_cookie": ("C5", ("cors.session_cookie_flags",)),
    "token_in_body": ("C5", ("cors.no_token_in_body",)),
    "no_csrf": ("C5", ("cors.csrf",)),
    "deep_json_500": ("C7", ("input_validation.public_route", "input_validation.private_write")),
    "echo": ("C7", ("input_validation.public_route", "input_validation.private_write")),
    "secret_in_error": ("C4", ("secrets.error_responses",)),
    "openapi_secret": ("C4", ("secrets.openapi_examples",)),
    "key_in_list": ("C4", ("secrets.api_key_shown_once",)),
}


def _run(
    *faults: str, accounts: tuple[Account, ...] = ACCOUNTS, ids: list[str] | None = None
) -> Report:
    with serve_imitation(*faults) as server:
        for account in ACCOUNTS:
            server.app.add_user(account.email, account.password)
        return run_checks(server.url, ids, accounts=accounts)


def test_every_fault_is_caught_by_a_named_check() -> None:
    assert set(CAUGHT_BY) == set(FAULTS)


@pytest.mark.checklist(
    "C1", "C2", "C4", "C5", "C7", red="make an access check fail a correct answer"
)
def test_the_control_passes_every_access_check() -> None:
    report = _run()
    for found in report.findings:
        expected = (
            Status.NOT_CHECKED if found.check == "authorization.webhook_endpoints" else Status.PASS
        )
        assert found.status is expected, describe(found)
    assert not report.checker_errors
    assert not report.cleanup_errors
    assert len(report.findings) == 16


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(
            f,
            marks=pytest.mark.checklist(
                CAUGHT_BY[f][0], red=f"remove what catches {f} from its check"
            ),
        )
        for f in sorted(CAUGHT_BY)
    ],
)
def test_each_fault_fails_its_check(fault: str) -> None:
    _row, checks = CAUGHT_BY[fault]
    report = _run(fault, ids=list(checks))
    for check_id in checks:
        found = finding(report, check_id)
        assert found.status is Status.FAIL, describe(found)
        assert found.evidence, check_id
    assert not report.checker_errors


def _left_behind(server: Imitation) -> list[str]:
    """Workspaces still there and sessions still signed in on the imitation after a run."""
    store = server.app.store
    workspaces = [key for key, (kind, _, _) in store.objects.items() if kind == "workspace"]
    return workspaces + [f"session {number}" for number, _ in enumerate(store.sessions)]


def test_a_spent_budget_stops_the_checks_and_still_cleans_up() -> None:
    with serve_imitation() as server:
        for account in ACCOUNTS:
            server.app.add_user(account.email, account.password)
        report = run_checks(server.url, accounts=ACCOUNTS, max_requests=250)
        assert not _left_behind(server)
    statuses = [found.status for found in report.findings]
    assert Status.PASS in statuses
    assert any(found.why.startswith("budget spent") for found in report.findings)
    assert Status.FAIL not in statuses
    assert not report.checker_errors
    assert report.requests_used <= 250


def test_a_full_run_leaves_nothing_behind() -> None:
    with serve_imitation() as server:
        for account in ACCOUNTS:
            server.app.add_user(account.email, account.password)
        report = run_checks(server.url, accounts=ACCOUNTS)
        assert not _left_behind(server)
    assert not report.cleanup_errors


def test_without_accounts_only_the_anonymous_checks_run() -> None:
    report = _run(accounts=())
    for found in report.findings:
        if found.check in NEEDS_NO_ACCOUNT:
            assert found.status is Status.PASS, describe(found)
        else:
            assert found.status is Status.NOT_CHECKED, describe(found)
            assert found.why, found.check


def test_evidence_never_shows_the_password_or_a_key() -> None:
    report = _run("revoked_key_works", "weak_cookie")
    text = "\n".join(item.line() for found in report.findings for item in found.evidence)
    text += "\n".join(found.why for found in report.findings)
    for account in ACCOUNTS:
        assert account.password not in text
    assert "lpk_" not in text
    assert "<session cookie>" in text


def test_a_session_hides_its_cookie() -> None:
    fields = Session.__dataclass_fields__
    assert not fields["cookie_value"].repr
    assert not fields["login_body"].repr
    assert not fields["set_cookies"].repr
