"""Two-step login with TOTP and recovery codes, attacked over HTTP (C1).

Each refusal asserts the answer *and* that nothing changed: the factor, code and session rows
are snapshotted before and compared after.
"""

from __future__ import annotations

import time

import pyotp
import pytest

from tests.factories.mfa import (
    CHALLENGE_COOKIE,
    enrol_totp,
    login_step_one,
    login_with_totp,
    next_code,
    second_factor,
)
from tests.support import Actor, Database, Server, session_cookie

FACTOR_TABLES = ("totp_factor", "recovery_code", "user_session")


def _state(db: Database, user_id: str) -> dict[str, object]:
    """Everything a second-factor attack could change for one user."""
    return {
        table: db.rows(f"SELECT * FROM {table} WHERE user_id = %s ORDER BY id", user_id)  # noqa: S608
        for table in FACTOR_TABLES
    }


def _challenge(server: Server, actor: Actor, password: str | None = None) -> str:
    first = login_step_one(server, actor.email, password or actor.password)
    assert first.status_code == 202, first.text
    return session_cookie(first, CHALLENGE_COOKIE)


@pytest.mark.checklist("C1", red="open the session in login() before the second-factor branch")
def test_password_alone_never_yields_a_session_and_step_one_hides_the_password(
    server: Server, db: Database, alice: Actor
) -> None:
    enrol_totp(alice)
    before = _state(db, alice.user_id)
    right = login_step_one(server, alice.email, alice.password)
    wrong = login_step_one(server, alice.email, alice.password + "x")
    for response in (right, wrong):
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "second_factor_required"
        assert "__Host-lp_session" not in response.headers.get("set-cookie", "")
    # The same answer whether the password was right (only the challenge token differs).
    assert right.json() == wrong.json()
    assert right.headers.keys() == wrong.headers.keys()
    # A valid code does not rescue a wrong password.
    assert alice.totp_secret is not None
    refused = second_factor(
        server, session_cookie(wrong, CHALLENGE_COOKIE), {"code": next_code(alice.totp_secret)}
    )
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_credentials"
    assert _state(db, alice.user_id) == before


@pytest.mark.checklist("C1", red="skip claim_totp_step in spend_factor (verify.py)")
def test_a_totp_code_works_once(server: Server, db: Database, alice: Actor) -> None:
    enrol_totp(alice)
    assert alice.totp_secret is not None
    code = next_code(alice.totp_secret)
    first = second_factor(server, _challenge(server, alice), {"code": code})
    assert first.status_code == 200, first.text
    before = _state(db, alice.user_id)
    replayed = second_factor(server, _challenge(server, alice), {"code": code})
    assert replayed.status_code == 401
    assert replayed.json()["code"] == "invalid_credentials"
    assert _state(db, alice.user_id) == before


@pytest.mark.checklist("C1", red="codes.new_secret returns one fixed secret for every enrolment")
def test_a_code_from_the_previous_enrolment_is_refused(
    server: Server, db: Database, alice: Actor
) -> None:
    enrol_totp(alice)
    old_secret = alice.totp_secret
    assert old_secret is not None
    assert alice.delete("/v1/auth/mfa/totp").status_code == 204
    enrol_totp(alice)
    assert alice.totp_secret != old_secret
    before = _state(db, alice.user_id)
    # The next step: not spent by the new enrolment, so only a different secret refuses it.
    stale = pyotp.TOTP(old_secret).at(time.time() + 30)
    refused = second_factor(server, _challenge(server, alice), {"code": stale})
    assert refused.status_code == 401
    assert _state(db, alice.user_id) == before


@pytest.mark.checklist("C1", red="drop used_at IS NULL from consume_recovery_code")
def test_a_recovery_code_works_once_and_is_audited_and_mailed(
    server: Server, db: Database, alice: Actor
) -> None:
    codes = enrol_totp(alice)
    assert len(codes) == 10
    used = second_factor(server, _challenge(server, alice), {"recovery_code": codes[0]})
    assert used.status_code == 200, used.text
    assert db.scalar(
        "SELECT count(*) FROM audit_event WHERE action = 'mfa.recovery_code_used' "
        "AND target_id = %s",
        alice.user_id,
    )
    assert "recovery code was used" in db.last_mail(alice.email, "security_notice")
    before = _state(db, alice.user_id)
    again = second_factor(server, _challenge(server, alice), {"recovery_code": codes[0]})
    assert again.status_code == 401
    assert _state(db, alice.user_id) == before


@pytest.mark.checklist("C1", red="skip the browser_hash comparison in find_challenge")
def test_a_half_session_from_another_browser_is_refused(
    server: Server, db: Database, alice: Actor
) -> None:
    enrol_totp(alice)
    assert alice.totp_secret is not None
    challenge = _challenge(server, alice)
    before = {**_state(db, alice.user_id), "challenges": db.snapshot("login_challenge")}
    stolen = second_factor(
        server, challenge, {"code": next_code(alice.totp_secret)}, user_agent="attacker-browser"
    )
    assert stolen.status_code == 401
    assert stolen.json()["code"] == "login_challenge_invalid"
    assert {**_state(db, alice.user_id), "challenges": db.snapshot("login_challenge")} == before


@pytest.mark.checklist("C1", red="drop expires_at > now from ChallengeRepository.live")
def test_an_expired_half_session_is_refused(server: Server, db: Database, alice: Actor) -> None:
    enrol_totp(alice)
    assert alice.totp_secret is not None
    challenge = _challenge(server, alice)
    # Five minutes pass (moved in the database: the server's clock is real).
    with db.connect() as conn:
        conn.execute(
            "UPDATE login_challenge SET expires_at = now() - interval '1 second' "
            "WHERE user_id = %s",
            (alice.user_id,),
        )
    before = _state(db, alice.user_id)
    late = second_factor(server, challenge, {"code": next_code(alice.totp_secret)})
    assert late.status_code == 401
    assert late.json()["code"] == "login_challenge_invalid"
    assert _state(db, alice.user_id) == before


@pytest.mark.checklist("C1", red="skip ChallengeRepository.consume in complete_login")
def test_a_half_session_completes_once(server: Server, db: Database, alice: Actor) -> None:
    enrol_totp(alice)
    assert alice.totp_secret is not None
    challenge = _challenge(server, alice)
    done = second_factor(server, challenge, {"code": next_code(alice.totp_secret)})
    assert done.status_code == 200, done.text
    assert db.scalar(
        "SELECT factor_verified_at IS NOT NULL FROM user_session WHERE user_id = %s "
        "ORDER BY created_at DESC LIMIT 1",
        alice.user_id,
    )
    before = _state(db, alice.user_id)
    again = second_factor(server, challenge, {"code": next_code(alice.totp_secret)})
    assert again.status_code == 401
    assert _state(db, alice.user_id) == before


@pytest.mark.checklist("C1", red="drop the notify_failure call in complete_login")
def test_a_wrong_factor_is_audited_and_mailed_to_the_owner(
    server: Server, db: Database, alice: Actor
) -> None:
    enrol_totp(alice)
    wrong = second_factor(server, _challenge(server, alice), {"code": "000000"})
    assert wrong.status_code == 401
    assert db.scalar(
        "SELECT count(*) FROM audit_event WHERE action = 'mfa.factor_failed' "
        "AND outcome = 'failure' AND target_id = %s",
        alice.user_id,
    )
    assert "wrong second-factor code" in db.last_mail(alice.email, "security_notice")
    assert db.scalar(
        "SELECT failed_attempts FROM login_challenge WHERE user_id = %s "
        "ORDER BY created_at DESC LIMIT 1",
        alice.user_id,
    )


def test_enrolment_is_audited_mailed_and_secret_encrypted(db: Database, alice: Actor) -> None:
    enrol_totp(alice)
    assert alice.totp_secret is not None
    stored = bytes(
        db.scalar("SELECT secret_encrypted FROM totp_factor WHERE user_id = %s", alice.user_id)
    )
    assert alice.totp_secret.encode() not in stored
    assert db.scalar(
        "SELECT count(*) FROM audit_event WHERE action = 'mfa.totp_enabled' AND target_id = %s",
        alice.user_id,
    )
    assert "authenticator app was added" in db.last_mail(alice.email, "security_notice")


def test_accounts_without_a_factor_keep_one_step_login(server: Server, alice: Actor) -> None:
    again = login_step_one(server, alice.email, alice.password)
    assert again.status_code == 200
    assert session_cookie(again)


def test_two_step_login_opens_a_freshly_verified_session(server: Server, alice: Actor) -> None:
    enrol_totp(alice)
    assert alice.totp_secret is not None
    signed_in = login_with_totp(server, alice.email, alice.password, alice.totp_secret)
    status = signed_in.get("/v1/auth/mfa")
    assert status.status_code == 200
    assert status.json()["totp"] is True
    assert status.json()["factor_verified_at"] is not None
