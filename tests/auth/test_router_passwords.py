"""Attacks on password reset and change, and on password storage (argon2id) (C1, C4, C6, C9)."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.auth.conftest import second_server_env
from tests.auth.helpers import another_session, is_signed_in, send
from tests.factories.users import create_actor, login, strong_password, unique_email
from tests.problems import assert_problem
from tests.support import Actor, Anonymous, Database, Server, start_server, stop_server

RESET = "/v1/auth/password-reset"
CONFIRM = "/v1/auth/password-reset/confirm"
CHANGE = "/v1/auth/password-change"
LOGIN = "/v1/auth/login"


def password_hash(db: Database, user_id: str) -> str:
    return str(db.scalar("SELECT password_hash FROM user_account WHERE id = %s", user_id))


def can_log_in(server: Server, email: str, password: str) -> bool:
    status = Anonymous(server).post(LOGIN, json={"email": email, "password": password}).status_code
    assert status in (200, 401), status
    return status == 200


def reset_token(server: Server, db: Database, email: str) -> str:
    response = Anonymous(server).post(RESET, json={"email": email})
    assert response.status_code == 202, response.text
    return db.token_from_mail(email, "password_reset")


def mail_count(db: Database, email: str, kind: str) -> int:
    return int(
        db.scalar(
            "SELECT count(*) FROM email_outbox WHERE to_address = %s AND kind = %s", email, kind
        )
    )


def argon2_parameters(encoded: str) -> tuple[str, int, int, int]:
    match = re.fullmatch(
        r"\$(argon2(?:id|i|d))\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", encoded
    )
    assert match is not None, encoded[:30]
    return match[1], int(match[2]), int(match[3]), int(match[4])


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[list[Server]]:
    """Servers a test starts; stopped when it ends, pass or fail."""
    started: list[Server] = []
    yield started
    for extra in started:
        stop_server(extra)


@pytest.mark.checklist("C1", red="answer unknown addresses differently or keep old reset links")
class TestPasswordResetRequest:
    def test_unknown_address_gets_the_same_answer(
        self, server: Server, db: Database, anon: Anonymous
    ) -> None:
        known = create_actor(server, db, "reset-known")
        unknown = unique_email("reset-unknown")

        for_known = anon.post(RESET, json={"email": known.email})
        for_unknown = anon.post(RESET, json={"email": unknown})

        assert (for_known.status_code, for_unknown.status_code) == (202, 202)
        assert for_known.json() == for_unknown.json()
        assert mail_count(db, known.email, "password_reset") == 1
        assert mail_count(db, unknown, "password_reset") == 0

    def test_new_request_invalidates_the_previous_link(
        self, server: Server, db: Database, anon: Anonymous
    ) -> None:
        actor = create_actor(server, db, "reset-twice")
        first = reset_token(server, db, actor.email)
        second = reset_token(server, db, actor.email)
        assert first != second

        stale = anon.post(CONFIRM, json={"token": first, "new_password": strong_password()})

        assert_problem(stale, 422, "invalid_token")
        assert can_log_in(server, actor.email, actor.password)
        new_password = strong_password()
        assert (
            anon.post(CONFIRM, json={"token": second, "new_password": new_password}).status_code
            == 204
        )

    @pytest.mark.checklist("C9", red="write the reset token into the server log")
    def test_reset_token_never_logged(self, server: Server, db: Database) -> None:
        actor = create_actor(server, db, "reset-log")
        token = reset_token(server, db, actor.email)
        Anonymous(server).post(CONFIRM, json={"token": token, "new_password": "password"})
        Anonymous(server).post(CONFIRM, json={"token": token + "x", "new_password": "p"})
        assert token not in server.log_text()


@pytest.mark.checklist("C1", red="accept an expired, reused or verification token for a reset")
class TestPasswordResetConfirm:
    def test_resets_and_ends_every_session(self, server: Server, db: Database) -> None:
        phone = create_actor(server, db, "reset-sessions")
        laptop = another_session(phone)
        token = reset_token(server, db, phone.email)
        new_password = strong_password()

        response = Anonymous(server).post(
            CONFIRM, json={"token": token, "new_password": new_password}
        )

        assert response.status_code == 204, response.text
        assert not is_signed_in(phone)
        assert not is_signed_in(laptop)
        assert not can_log_in(server, phone.email, phone.password)
        assert can_log_in(server, phone.email, new_password)
        assert mail_count(db, phone.email, "password_changed") == 1

    def test_token_is_single_use(self, server: Server, db: Database) -> None:
        actor = create_actor(server, db, "reset-once")
        token = reset_token(server, db, actor.email)
        anon = Anonymous(server)
        new_password = strong_password()

        assert (
            anon.post(CONFIRM, json={"token": token, "new_password": new_password}).status_code
            == 204
        )
        replay = anon.post(CONFIRM, json={"token": token, "new_password": strong_password()})

        assert_problem(replay, 422, "invalid_token")
        assert can_log_in(server, actor.email, new_password)

    def test_expired_token_refused(self, server: Server, db: Database) -> None:
        actor = create_actor(server, db, "reset-expired")
        token = reset_token(server, db, actor.email)
        db.rows(
            "UPDATE one_time_token SET expires_at = now() - interval '1 second' "
            "WHERE user_id = %s AND purpose = 'password_reset' RETURNING id",
            actor.user_id,
        )
        before = password_hash(db, actor.user_id)

        response = Anonymous(server).post(
            CONFIRM, json={"token": token, "new_password": strong_password()}
        )

        assert_problem(response, 422, "invalid_token")
        assert password_hash(db, actor.user_id) == before
        assert is_signed_in(actor)

    def test_weak_new_password_refused_and_link_kept(self, server: Server, db: Database) -> None:
        actor = create_actor(server, db, "reset-weak")
        token = reset_token(server, db, actor.email)
        before = password_hash(db, actor.user_id)

        weak = Anonymous(server).post(CONFIRM, json={"token": token, "new_password": "password1"})

        assert_problem(weak, 422, "weak_password")
        assert "password1" not in weak.text
        assert password_hash(db, actor.user_id) == before
        assert is_signed_in(actor)
        # A refused attempt does not burn the link.
        retry = Anonymous(server).post(
            CONFIRM, json={"token": token, "new_password": strong_password()}
        )
        assert retry.status_code == 204, retry.text

    def test_verification_token_is_not_a_reset_token(self, server: Server, db: Database) -> None:
        email = unique_email("reset-purpose")
        anon = Anonymous(server)
        password = strong_password()
        assert (
            anon.post("/v1/auth/signup", json={"email": email, "password": password}).status_code
            == 202
        )
        verify_token = db.token_from_mail(email, "verify_email")

        response = anon.post(
            CONFIRM, json={"token": verify_token, "new_password": strong_password()}
        )

        assert_problem(response, 422, "invalid_token")
        assert anon.post("/v1/auth/verify-email", json={"token": verify_token}).status_code == 202
        assert can_log_in(server, email, password)


@pytest.mark.checklist("C1", red="change a password without the current one, keep other sessions")
class TestPasswordChange:
    def test_wrong_current_password_changes_nothing(self, server: Server, db: Database) -> None:
        actor = create_actor(server, db, "change-wrong")
        laptop = another_session(actor)
        before = db.snapshot("user_account", "user_session", "email_outbox")
        guess = strong_password()

        response = actor.post(
            CHANGE, json={"current_password": guess, "new_password": strong_password()}
        )

        assert_problem(response, 403, "wrong_current_password")
        assert guess not in response.text
        assert db.snapshot("user_account", "user_session", "email_outbox") == before
        assert is_signed_in(actor)
        assert is_signed_in(laptop)

    @pytest.mark.parametrize(
        ("new_password", "code"),
        [
            ("password1", "weak_password"),
            ("Sh0rt-7", "validation_failed"),
            ("x" * 1025, "validation_failed"),
        ],
        ids=["common", "too-short", "too-long"],
    )
    def test_weak_new_password_refused(
        self, server: Server, db: Database, new_password: str, code: str
    ) -> None:
        actor = create_actor(server, db, "change-weak")
        before = db.snapshot("user_account", "user_session")

        response = actor.post(
            CHANGE, json={"current_password": actor.password, "new_password": new_password}
        )

        assert_problem(response, 422, code)
        assert new_password not in response.text
        assert actor.password not in response.text
        assert db.snapshot("user_account", "user_session") == before

    def test_changes_password_and_ends_other_sessions_only(
        self, server: Server, db: Database
    ) -> None:
        actor = create_actor(server, db, "change-ok")
        laptop = another_session(actor)
        new_password = strong_password()

        response = actor.post(
            CHANGE, json={"current_password": actor.password, "new_password": new_password}
        )

        assert response.status_code == 204, response.text
        assert is_signed_in(actor)
        assert not is_signed_in(laptop)
        assert not can_log_in(server, actor.email, actor.password)
        assert can_log_in(server, actor.email, new_password)
        assert "was just changed" in db.last_mail(actor.email, "password_changed")

    def test_burst_of_wrong_current_passwords_does_not_deadlock(
        self, server: Server, db: Database, spawn: list[Server], tmp_path: Path
    ) -> None:
        # A tiny pool (2 + 2 overflow) makes the burst needed small and the outcome certain.
        small = start_server(second_server_env(server, DATABASE_POOL_SIZE="2"), tmp_path / "s.log")
        spawn.append(small)
        actor = create_actor(small, db, "change-burst")

        def wrong_guess() -> int | str:
            try:
                return httpx.post(
                    small.url + CHANGE,
                    headers=actor.headers(),
                    json={"current_password": strong_password(), "new_password": strong_password()},
                    timeout=5,
                ).status_code
            except httpx.TimeoutException:
                return "timeout"

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: wrong_guess(), range(8)))
        small.process.kill()  # a deadlocked server would otherwise drain for the pool timeout
        assert results == [403] * 8, results

    def test_anonymous(self, server: Server) -> None:
        response = send(
            server,
            "POST",
            CHANGE,
            headers={"Origin": server.origin},
            json={"current_password": "whatever-1", "new_password": strong_password()},
        )
        assert_problem(response, 401, "unauthenticated")


class TestPasswordStorage:
    @pytest.mark.checklist("C4", red="hash passwords with anything but configured argon2id")
    def test_hashes_are_argon2id_with_configured_parameters(
        self, server: Server, db: Database, staff: Actor
    ) -> None:
        actor = create_actor(server, db, "argon2")
        expected = (
            "argon2id",
            int(server.env.get("ARGON2_MEMORY_KIB", 19 * 1024)),
            int(server.env.get("ARGON2_TIME_COST", 3)),
            int(server.env.get("ARGON2_PARALLELISM", 1)),
        )
        for user_id in (actor.user_id, staff.user_id):  # API sign-up and CLI creation
            assert argon2_parameters(password_hash(db, user_id)) == expected
        # Salted: no two accounts share a hash. (Only real hashes: tests/test_rls.py seeds rows
        # with a placeholder, which made this order-dependent.)
        hashes = [
            row[0]
            for row in db.rows("SELECT password_hash FROM user_account")
            if str(row[0]).startswith("$argon2")
        ]
        assert len(hashes) >= 2
        assert len(set(hashes)) == len(hashes)

    def test_rehashed_on_login_when_parameters_change(
        self, server: Server, db: Database, spawn: list[Server], tmp_path: Path
    ) -> None:
        actor = create_actor(server, db, "rehash")
        old = password_hash(db, actor.user_id)
        assert argon2_parameters(old)[2] != 4
        stronger = start_server(
            second_server_env(server, ARGON2_TIME_COST="4"), tmp_path / "t4.log"
        )
        spawn.append(stronger)

        login(stronger, actor.email, actor.password)

        new = password_hash(db, actor.user_id)
        assert new != old
        assert argon2_parameters(new)[:3] == ("argon2id", argon2_parameters(old)[1], 4)
        assert can_log_in(server, actor.email, actor.password)
        # A failed login never rewrites the hash.
        current = password_hash(db, actor.user_id)
        assert not can_log_in(stronger, actor.email, strong_password())
        assert password_hash(db, actor.user_id) == current

    def test_login_flood_does_not_starve_other_requests(
        self, db: Database, slow_hash_server: Server
    ) -> None:
        """Hashing runs off the event loop behind a small limiter: /healthz stays fast while 24
        failed logins queue, and memory grows by a few hashes' worth, not 24."""
        target = slow_hash_server  # ~150 ms hashes: a blocked event loop would show
        actor = create_actor(target, db, "flood")
        assert not can_log_in(target, actor.email, "warm-up-" + strong_password())
        rss_before = _peak_rss_kib(target)
        flood_size = 24

        def failed_login() -> int:
            # Each answer is due in seconds; a pool deadlock would hang until the pool times out.
            return httpx.post(
                target.url + LOGIN,
                headers={"Origin": target.origin},
                json={"email": actor.email, "password": strong_password()},
                timeout=15,
            ).status_code

        probes: list[float] = []
        with ThreadPoolExecutor(max_workers=flood_size) as pool:
            flood = [pool.submit(failed_login) for _ in range(flood_size)]
            time.sleep(0.05)
            while len(probes) < 3 or not all(f.done() for f in flood):
                started = time.perf_counter()
                assert httpx.get(target.url + "/healthz", timeout=10).status_code == 200
                probes.append(time.perf_counter() - started)
                if len(probes) == 1:
                    queued_during_first_probe = sum(not f.done() for f in flood)
                time.sleep(0.02)
            results = [f.result() for f in flood]

        assert queued_during_first_probe > flood_size // 2, "the flood ended before probing"
        assert results == [401] * flood_size
        # Off the loop, a probe waits ~40 ms for a core; a loop blocked by hashing makes it wait
        # for whole hashes (~150 ms each, several queued): the median tells them apart.
        assert statistics.median(probes) < 0.25, probes
        assert max(probes) < 1.0, probes
        hash_kib = 19 * 1024
        assert _peak_rss_kib(target) - rss_before < 6 * hash_kib, "too many hashes ran at once"


def _peak_rss_kib(server: Server) -> int:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match[1])
