"""The operator CLI (``python -m app ...``), run as a real subprocess against the test database.

``create-user`` takes the password on standard input only (never argv, where ``ps`` and shell
history would keep it), refuses weak passwords and duplicates with exit code 2, and never echoes
the password. ``worker --once`` runs every job once and exits, purging dead credentials.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories.mfa import enrol_totp
from tests.factories.users import login, strong_password, unique_email
from tests.support import Database, Server, run_cli


def user_count(db: Database, email: str) -> int:
    return int(db.scalar("SELECT count(*) FROM user_account WHERE email = %s", email))


@pytest.mark.checklist(
    "C4",
    red="add a --password option to create-user (argv lands in ps and shell history)",
)
def test_there_is_no_password_option(server: Server, db: Database) -> None:
    email, password = unique_email("argv"), strong_password()
    result = run_cli(server.env, "create-user", "--email", email, "--password", password)
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr
    assert user_count(db, email) == 0
    usage = run_cli(server.env, "create-user", "--help")
    assert usage.returncode == 0
    assert "--password" not in usage.stdout


@pytest.mark.checklist("C9", red="quote the refused password in create-user's error message")
@pytest.mark.parametrize(
    "password",
    [
        pytest.param("", id="none-given"),
        pytest.param("short7!", id="too-short"),
        pytest.param("iloveyou", id="breached"),
        pytest.param("abababababab", id="two-characters"),
    ],
)
def test_weak_passwords_are_refused_without_echo(
    server: Server, db: Database, password: str
) -> None:
    email = unique_email("weak")
    result = run_cli(server.env, "create-user", "--email", email, stdin=password + "\n")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("error: ")
    if password:
        assert password not in result.stdout + result.stderr
    assert user_count(db, email) == 0


@pytest.mark.checklist("C9", red="quote the password in create-user's duplicate-address error")
def test_duplicates_are_refused_without_echo(server: Server, db: Database) -> None:
    email, first, second = unique_email("dup"), strong_password(), strong_password()
    created = run_cli(server.env, "create-user", "--email", email, stdin=first + "\n")
    assert created.returncode == 0, created.stderr
    assert first not in created.stdout + created.stderr
    user_id = created.stdout.strip().rsplit(" ", 1)[-1]
    assert str(uuid.UUID(user_id)) == user_id

    again = run_cli(server.env, "create-user", "--email", email.upper(), stdin=second + "\n")
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert second not in again.stdout + again.stderr
    assert user_count(db, email) == 1


def test_admin_verified_user_can_sign_in_as_staff(server: Server, db: Database) -> None:
    email, password = unique_email("ops"), strong_password()
    result = run_cli(
        server.env, "create-user", "--email", email, "--admin", "--verified", stdin=password + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert password not in result.stdout + result.stderr
    row = db.rows(
        "SELECT is_staff, email_verified_at IS NOT NULL, password_hash FROM user_account "
        "WHERE email = %s",
        email,
    )
    assert len(row) == 1
    is_staff, verified, password_hash = row[0]
    assert is_staff
    assert verified
    assert str(password_hash).startswith("$argon2id$")
    assert password not in str(password_hash)

    staff = login(server, email, password)
    # Staff reach admin routes once they have a second factor (docs/mfa.md): refused with the
    # enrolment code first, answered after enrolling (which leaves the session fresh).
    refused = staff.get("/v1/admin/users")
    assert refused.status_code == 403
    assert refused.json()["code"] == "second_factor_enrolment_required"
    enrol_totp(staff)
    assert staff.get("/v1/admin/users").status_code == 200
    assert db.scalar(
        "SELECT count(*) FROM audit_event WHERE action = 'admin.user_created_cli' "
        "AND target_id = %s",
        uuid.UUID(staff.user_id),
    )


def test_plain_user_is_not_staff(server: Server, db: Database) -> None:
    email, password = unique_email("plain"), strong_password()
    result = run_cli(server.env, "create-user", "--email", email, stdin=password + "\n")
    assert result.returncode == 0, result.stderr
    assert db.scalar("SELECT is_staff FROM user_account WHERE email = %s", email) is False


def test_worker_once_purges_dead_credentials(server: Server, db: Database) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=31), now - timedelta(days=10)
    user_id = uuid.uuid4()
    sessions = {
        # revoked and expired more than 30 days ago: can never authenticate, past retention
        "dead": (old, old, old, old),
        # revoked 10 days ago: kept for the "my sessions" forensics window
        "recently_revoked": (recent, now + timedelta(days=1), now + timedelta(days=5), recent),
        "live": (now, now + timedelta(hours=1), now + timedelta(days=5), None),
    }
    ids = {label: uuid.uuid4() for label in sessions}
    tokens = {"used_long_ago": (old, old), "open": (now + timedelta(hours=1), None)}
    token_ids = {label: uuid.uuid4() for label in tokens}
    with db.connect() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO user_account (id, email, password_hash, is_staff) "
            "VALUES (%s, %s, 'not-a-hash', false)",
            (user_id, unique_email("worker")),
        )
        for label, (seen, idle, absolute, revoked) in sessions.items():
            conn.execute(
                "INSERT INTO user_session (id, user_id, token_hash, created_at, last_seen_at,"
                " idle_expires_at, absolute_expires_at, revoked_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (ids[label], user_id, secrets.token_bytes(32), seen, seen, idle, absolute, revoked),
            )
        for label, (expires, used) in tokens.items():
            conn.execute(
                "INSERT INTO one_time_token (id, user_id, purpose, token_hash, expires_at,"
                " used_at) VALUES (%s, %s, 'password_reset', %s, %s, %s)",
                (token_ids[label], user_id, secrets.token_bytes(32), expires, used),
            )

    result = run_cli(server.env, "worker", "--jobs", "purge_expired_credentials", "--once")
    assert result.returncode == 0, result.stdout + result.stderr

    remaining = {
        row[0] for row in db.rows("SELECT id FROM user_session WHERE user_id = %s", user_id)
    }
    assert remaining == {ids["recently_revoked"], ids["live"]}
    remaining_tokens = {
        row[0] for row in db.rows("SELECT id FROM one_time_token WHERE user_id = %s", user_id)
    }
    assert remaining_tokens == {token_ids["open"]}
