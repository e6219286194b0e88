"""Attacks on sign-up, e-mail verification and login (C1, C4, C5, C7, C9).

Sessions and CSRF are in ``test_router_sessions.py``, password flows and argon2 in
``test_router_passwords.py``, the error wire shape in ``test_router_errors.py``.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

import httpx
import pytest

from tests.auth.helpers import (
    assert_similar,
    cookie_attributes,
    cookie_header,
    keyed_hash,
    median_durations,
    send,
    without_request_id,
)
from tests.factories.mfa import keep_fresh
from tests.factories.users import create_actor, signup, strong_password, unique_email
from tests.problems import assert_problem
from tests.support import Actor, Anonymous, Database, Server, session_cookie

SIGNUP = "/v1/auth/signup"
VERIFY = "/v1/auth/verify-email"
LOGIN = "/v1/auth/login"
USER_READ_FIELDS = {"id", "email", "display_name", "email_verified", "is_staff", "created_at"}


def user_count(db: Database, email: str) -> int:
    return int(db.scalar("SELECT count(*) FROM user_account WHERE email = %s", email))


@pytest.fixture(scope="module")
def member(server: Server, db: Database) -> Actor:
    """A verified account whose password the tests know (never changed in this module)."""
    return create_actor(server, db, "login")


@pytest.fixture(scope="module")
def suspended(server: Server, db: Database, staff_account: Actor) -> Actor:
    staff = keep_fresh(staff_account)
    actor = create_actor(server, db, "suspended")
    response = staff.post(f"/v1/admin/users/{actor.user_id}/suspend")
    assert response.status_code == 200, response.text
    return actor


@pytest.mark.checklist("C7", red="accept unknown fields or non-JSON bodies, or echo the password")
class TestSignup:
    def test_existing_address_gets_the_same_answer_and_nothing_changes(
        self, anon: Anonymous, db: Database, member: Actor
    ) -> None:
        fresh = anon.post(SIGNUP, json={"email": unique_email(), "password": strong_password()})
        before = db.snapshot("user_account", "user_session", "one_time_token")

        again = anon.post(
            SIGNUP,
            json={"email": member.email, "password": strong_password(), "display_name": "Pwned"},
        )

        assert (fresh.status_code, again.status_code) == (202, 202)
        assert fresh.json() == again.json()
        assert fresh.headers.get("set-cookie") is None
        assert again.headers.get("set-cookie") is None
        # The owner's account (password hash, name, verification) is untouched...
        assert db.snapshot("user_account", "user_session", "one_time_token") == before
        # ...and the owner, not the caller, hears about it.
        assert "sign in or reset" in db.last_mail(member.email, "signup_existing")

    def test_existing_and_new_address_take_similar_time(
        self, slow_hash_server: Server, member: Actor
    ) -> None:
        anon = Anonymous(slow_hash_server)
        durations = median_durations(
            {
                "new": lambda: anon.post(
                    SIGNUP, json={"email": unique_email("timing"), "password": strong_password()}
                ),
                "existing": lambda: anon.post(
                    SIGNUP, json={"email": member.email, "password": strong_password()}
                ),
            },
            expected=202,
        )
        assert_similar(durations)

    @pytest.mark.parametrize(
        ("password", "code"),
        [
            pytest.param("Sh0rt-7", "validation_failed", id="too-short"),
            pytest.param("password1", "weak_password", id="common"),
            pytest.param("Iloveyou", "weak_password", id="common-other-case"),
            pytest.param("zzzzzzzzzzzz", "weak_password", id="too-few-distinct-chars"),
            pytest.param("{email}", "weak_password", id="equals-email"),
            pytest.param("{local}", "weak_password", id="equals-local-part"),
            pytest.param("x" * 1025, "validation_failed", id="too-long-1025"),
        ],
    )
    def test_weak_password_refused_without_echo(
        self, anon: Anonymous, db: Database, password: str, code: str
    ) -> None:
        email = unique_email("weakpw")
        password = password.format(email=email, local=email.split("@")[0])

        response = anon.post(SIGNUP, json={"email": email, "password": password})

        assert_problem(response, 422, code)
        assert password not in response.text
        assert password.lower() not in response.text.lower()
        assert user_count(db, email) == 0

    def test_longest_allowed_password_accepted(self, anon: Anonymous, db: Database) -> None:
        email = unique_email("longpw")
        password = secrets.token_urlsafe(800)[:1024]
        response = anon.post(SIGNUP, json={"email": email, "password": password})
        assert response.status_code == 202, response.text
        assert user_count(db, email) == 1

    @pytest.mark.parametrize(
        "extra",
        [{"is_staff": True}, {"email_verified_at": "2020-01-01T00:00:00Z"}, {"id": "x"}],
        ids=["is_staff", "email_verified_at", "id"],
    )
    def test_unknown_fields_rejected(
        self, anon: Anonymous, db: Database, extra: dict[str, object]
    ) -> None:
        email = unique_email("massassign")
        response = anon.post(SIGNUP, json={"email": email, "password": strong_password(), **extra})
        body = assert_problem(response, 422, "validation_failed")
        assert [error["type"] for error in body["errors"]] == ["extra_forbidden"]
        assert user_count(db, email) == 0

    def test_malformed_json_is_400(self, anon: Anonymous) -> None:
        response = anon.post(
            SIGNUP,
            content=b'{"email": "a@example.com", ',
            headers={"Content-Type": "application/json"},
        )
        assert_problem(response, 400, "malformed_json")

    @pytest.mark.parametrize(
        ("content_type", "content"),
        [
            ("text/plain", '{{"email": "{email}", "password": "{password}"}}'),
            ("application/x-www-form-urlencoded", "email={email}&password={password}"),
            ("multipart/form-data; boundary=x", "--x\r\n"),
        ],
        ids=["text-plain", "form-urlencoded", "multipart"],
    )
    def test_non_json_content_type_refused(
        self, anon: Anonymous, db: Database, content_type: str, content: str
    ) -> None:
        email = unique_email("ctype")
        body = content.format(email=email, password=strong_password())
        response = anon.post(SIGNUP, content=body, headers={"Content-Type": content_type})
        assert_problem(response, 415, "json_required")
        assert user_count(db, email) == 0

    def test_email_is_normalised(self, db: Database, anon: Anonymous) -> None:
        canonical = unique_email("mixed")
        shouted = f"  {canonical.upper()}\t"
        password = strong_password()

        assert anon.post(SIGNUP, json={"email": shouted, "password": password}).status_code == 202
        assert user_count(db, canonical) == 1
        # The same mailbox in another spelling is the existing account, not a second one.
        again = anon.post(SIGNUP, json={"email": canonical, "password": strong_password()})
        assert again.status_code == 202
        assert (
            db.scalar("SELECT count(*) FROM user_account WHERE lower(email) = %s", canonical) == 1
        )

        token = db.token_from_mail(canonical, "verify_email")
        assert anon.post(VERIFY, json={"token": token}).status_code == 202
        signed_in = anon.post(LOGIN, json={"email": canonical.title(), "password": password})
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["email"] == canonical


@pytest.mark.checklist("C1", red="accept an expired, tampered or reused verification token")
class TestVerifyEmail:
    def test_token_is_single_use(self, server: Server, db: Database, anon: Anonymous) -> None:
        email, _ = signup(server, db, verify=False)
        token = db.token_from_mail(email, "verify_email")

        first = anon.post(VERIFY, json={"token": token})
        second = anon.post(VERIFY, json={"token": token})

        assert first.status_code == 202
        assert first.json()["status"] == "verified"
        assert_problem(second, 422, "invalid_token")

    def test_expired_token_refused(self, server: Server, db: Database, anon: Anonymous) -> None:
        email, password = signup(server, db, verify=False)
        token = db.token_from_mail(email, "verify_email")
        db.rows(
            "UPDATE one_time_token SET expires_at = now() - interval '1 second' "
            "WHERE user_id = (SELECT id FROM user_account WHERE email = %s) RETURNING id",
            email,
        )

        assert_problem(anon.post(VERIFY, json={"token": token}), 422, "invalid_token")
        assert (
            db.scalar("SELECT email_verified_at FROM user_account WHERE email = %s", email) is None
        )
        assert_problem(
            anon.post(LOGIN, json={"email": email, "password": password}), 403, "email_not_verified"
        )

    def test_tampered_token_refused(self, server: Server, db: Database, anon: Anonymous) -> None:
        email, _ = signup(server, db, verify=False)
        token = db.token_from_mail(email, "verify_email")
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert_problem(anon.post(VERIFY, json={"token": tampered}), 422, "invalid_token")
        assert (
            db.scalar("SELECT email_verified_at FROM user_account WHERE email = %s", email) is None
        )

    def test_unverified_user_cannot_log_in(
        self, server: Server, db: Database, anon: Anonymous
    ) -> None:
        email, password = signup(server, db, verify=False)

        right = anon.post(LOGIN, json={"email": email, "password": password})
        wrong = anon.post(LOGIN, json={"email": email, "password": strong_password()})
        unknown = anon.post(LOGIN, json={"email": unique_email(), "password": password})

        assert_problem(right, 403, "email_not_verified")
        assert right.headers.get("set-cookie") is None
        # Without the password the account looks like any other failure.
        assert_problem(wrong, 401, "invalid_credentials")
        assert without_request_id(wrong) == without_request_id(unknown)
        assert (
            db.scalar(
                "SELECT count(*) FROM user_session s JOIN user_account u ON u.id = s.user_id "
                "WHERE u.email = %s",
                email,
            )
            == 0
        )


@pytest.mark.checklist("C1", red="make a wrong password answer unlike an unknown address")
class TestLogin:
    def test_failures_are_indistinguishable(
        self, anon: Anonymous, member: Actor, suspended: Actor
    ) -> None:
        attempts = {
            "unknown user": anon.post(
                LOGIN, json={"email": unique_email(), "password": member.password}
            ),
            "wrong password": anon.post(
                LOGIN, json={"email": member.email, "password": strong_password()}
            ),
            "suspended user, right password": anon.post(
                LOGIN, json={"email": suspended.email, "password": suspended.password}
            ),
        }
        bodies = []
        for response in attempts.values():
            assert_problem(response, 401, "invalid_credentials")
            assert response.headers.get("set-cookie") is None
            bodies.append((without_request_id(response), response.headers["www-authenticate"]))
        assert bodies[0] == bodies[1] == bodies[2]

    def test_failures_take_similar_time(
        self, db: Database, staff: Actor, slow_hash_server: Server
    ) -> None:
        # Accounts hashed by the slow server, so every path costs one slow hash (or should).
        member = create_actor(slow_hash_server, db, "timing")
        suspended = create_actor(slow_hash_server, db, "timing-suspended")
        assert staff.post(f"/v1/admin/users/{suspended.user_id}/suspend").status_code == 200
        anon = Anonymous(slow_hash_server)

        def attempt(email: str, password: str) -> Callable[[], httpx.Response]:
            return lambda: anon.post(LOGIN, json={"email": email, "password": password})

        anon.post(LOGIN, json={"email": unique_email(), "password": "warm-up"})
        durations = median_durations(
            {
                "unknown": attempt(unique_email("nobody"), strong_password()),
                "wrong password": attempt(member.email, strong_password()),
                "suspended": attempt(suspended.email, suspended.password),
            },
            expected=401,
        )
        assert_similar(durations)

    @pytest.mark.checklist("C5", red="drop HttpOnly, Secure, SameSite or __Host- from the cookie")
    def test_cookie_flags(self, server: Server, member: Actor) -> None:
        response = Anonymous(server).post(
            LOGIN, json={"email": member.email, "password": member.password}
        )
        assert response.status_code == 200, response.text
        attributes = cookie_attributes(response)

        assert response.headers["set-cookie"].startswith("__Host-lp_session=")
        assert set(attributes) == {"", "httponly", "secure", "samesite", "path", "max-age"}
        assert attributes["path"] == "/"
        assert attributes["samesite"].lower() == "lax"
        assert attributes["httponly"] == attributes["secure"] == ""
        assert int(attributes["max-age"]) == 30 * 24 * 3600
        assert len(attributes[""]) >= 43  # 256 bits, url-safe base64

    def test_fresh_token_at_every_login(self, server: Server, db: Database, member: Actor) -> None:
        planted = "attacker-chosen-" + secrets.token_urlsafe(24)
        credentials = {"email": member.email, "password": member.password}
        with_planted = Anonymous(server).post(
            LOGIN, json=credentials, headers=cookie_header(planted)
        )
        current = session_cookie(with_planted)
        with_live = Anonymous(server).post(LOGIN, json=credentials, headers=cookie_header(current))
        renewed = session_cookie(with_live)

        assert len({planted, current, renewed}) == 3
        # The planted value never became a session.
        assert send(server, "GET", "/v1/me", headers=cookie_header(planted)).status_code == 401
        assert (
            db.scalar(
                "SELECT count(*) FROM user_session WHERE token_hash = %s",
                keyed_hash(server, "session", planted),
            )
            == 0
        )

    @pytest.mark.checklist("C4", red="store the session token instead of its keyed hash")
    def test_session_token_stored_as_keyed_hash(
        self, server: Server, db: Database, member: Actor
    ) -> None:
        response = Anonymous(server).post(
            LOGIN, json={"email": member.email, "password": member.password}
        )
        token = session_cookie(response)

        rows = db.rows("SELECT * FROM user_session WHERE user_id = %s", member.user_id)
        assert token not in repr(rows)
        assert token.encode() not in repr(rows).encode()
        hashes = {
            row[0]
            for row in db.rows(
                "SELECT token_hash FROM user_session WHERE user_id = %s", member.user_id
            )
        }
        assert keyed_hash(server, "session", token) in {bytes(h) for h in hashes}
        assert hashlib.sha256(token.encode()).digest() not in {bytes(h) for h in hashes}

    @pytest.mark.checklist("C5", red="return the session token in the login response body")
    def test_body_carries_no_token(self, server: Server, member: Actor) -> None:
        response = Anonymous(server).post(
            LOGIN, json={"email": member.email, "password": member.password}
        )
        token = session_cookie(response)
        assert set(response.json()) == USER_READ_FIELDS
        assert token not in response.text
        assert "$argon2" not in response.text

    @pytest.mark.checklist("C9", red="stop auditing logins with client IP and request id")
    def test_success_and_failure_audited_with_ip_and_request_id(
        self, server: Server, db: Database, member: Actor
    ) -> None:
        ok = Anonymous(server).post(
            LOGIN, json={"email": member.email, "password": member.password}
        )
        failed = Anonymous(server).post(
            LOGIN, json={"email": member.email, "password": strong_password()}
        )
        assert (ok.status_code, failed.status_code) == (200, 401)

        def event(request_id: str) -> list[tuple[object, ...]]:
            return db.rows(
                "SELECT action, outcome, actor_user_id::text, client_ip FROM audit_event "
                "WHERE request_id = %s",
                request_id,
            )

        assert event(ok.headers["x-request-id"]) == [
            ("auth.login", "success", member.user_id, "127.0.0.1")
        ]
        assert event(failed.json()["request_id"]) == [
            ("auth.login", "failure", member.user_id, "127.0.0.1")
        ]
