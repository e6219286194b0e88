"""Passkeys over HTTP, attacked without a browser (C1): a software authenticator
(tests/factories/passkeys.py) plays the WebAuthn client, so each refusal below is the server's
own check, not the browser's. Chromium's virtual authenticator: tests/browser/test_passkeys.py.

Each refusal asserts the status, the problem code, and that the passkey and session rows did
not change.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.auth.conftest import second_server_env
from tests.factories.mfa import CHALLENGE_COOKIE, enrol_totp, login_step_one, second_factor
from tests.factories.passkeys import (
    PASSKEY_COOKIE,
    PASSKEY_OPTIONS,
    PASSKEYS,
    assertion_response,
    b64,
    passkey_login,
    register_passkey,
    register_response,
    step_up_with_passkey,
)
from tests.support import (
    Actor,
    Anonymous,
    Database,
    Server,
    session_cookie,
    start_server,
    stop_server,
)

TABLES = ("passkey", "user_session", "recovery_code")


def _state(db: Database, *users: Actor) -> dict[str, object]:
    ids = [u.user_id for u in users]
    return {
        table: db.rows(
            f"SELECT * FROM {table} WHERE user_id::text = ANY(%s) ORDER BY id",  # noqa: S608
            ids,
        )
        for table in TABLES
    }


def _age_factor(db: Database, actor: Actor) -> None:
    with db.connect() as conn:
        conn.execute(
            "UPDATE user_session SET factor_verified_at = now() - interval '11 minutes' "
            "WHERE user_id = %s",
            (actor.user_id,),
        )


def _refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code, response.text


@pytest.mark.checklist(
    "C1", red="leave second_factor_at unset when passkeys.service.register stores a passkey"
)
def test_register_then_sign_in_with_the_passkey_alone(
    server: Server, db: Database, alice: Actor
) -> None:
    key, created = register_passkey(alice, "Work laptop")
    assert created["name"] == "Work laptop"
    assert len(created["recovery_codes"]) == 10  # the account's first factor
    handle = db.scalar("SELECT passkey_user_handle FROM user_account WHERE id = %s", alice.user_id)
    assert handle == key.user_handle
    assert len(handle) == 32
    assert alice.user_id.replace("-", "").encode() not in handle
    assert alice.get("/v1/auth/mfa").json()["passkeys"] == 1
    listed = alice.get(PASSKEYS).json()["items"]
    assert [k["name"] for k in listed] == ["Work laptop"]
    assert "public_key" not in listed[0]
    assert "credential_id" not in listed[0]
    assert "passkey was added" in db.last_mail(alice.email, "security_notice")
    assert db.scalar(
        "SELECT count(*) FROM audit_event WHERE action = 'mfa.passkey_added' AND target_id = %s",
        alice.user_id,
    )
    # The password now leads to step 2, which offers the passkey.
    first = login_step_one(server, alice.email, alice.password)
    assert first.status_code == 202
    assert "passkey" in first.json()["methods"]
    signed_in = passkey_login(server, key)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["id"] == alice.user_id
    assert PASSKEY_COOKIE in signed_in.headers.get("set-cookie", "")  # cleared
    session = Actor(server, alice.email, alice.password, alice.user_id, session_cookie(signed_in))
    # A passkey counts as a fresh factor: a step-up route opens at once.
    assert session.post(PASSKEY_OPTIONS).status_code == 200
    assert (
        db.scalar("SELECT sign_count FROM passkey WHERE user_id = %s", alice.user_id)
        == key.sign_count
    )


@pytest.mark.checklist("C1", red="drop the used_at IS NULL condition in CeremonyRepository.claim")
def test_a_challenge_is_single_use_and_never_taken_from_the_client(
    server: Server, db: Database, alice: Actor
) -> None:
    options = alice.post(PASSKEY_OPTIONS).json()["publicKey"]
    _, response = register_response(options, server.origin)
    assert alice.post(PASSKEYS, json={"name": "one", "passkey": response}).status_code == 201
    before = _state(db, alice)
    replay = alice.post(PASSKEYS, json={"name": "two", "passkey": response})
    _refused(replay, 401, "passkey_ceremony_invalid")
    # A challenge the client made up, with no ceremony started: nothing to check it against.
    made_up = dict(options, challenge=b64(b"x" * 32))
    _, forged = register_response(made_up, server.origin)
    _refused(
        alice.post(PASSKEYS, json={"name": "three", "passkey": forged}),
        401,
        "passkey_ceremony_invalid",
    )
    # A ceremony exists, but the response answers another challenge.
    alice.post(PASSKEY_OPTIONS)
    _, forged = register_response(made_up, server.origin)
    _refused(
        alice.post(PASSKEYS, json={"name": "four", "passkey": forged}), 403, "passkey_rejected"
    )
    assert _state(db, alice) == before


def test_sign_in_needs_its_own_ceremony_cookie_from_the_same_browser(
    server: Server, db: Database, alice: Actor
) -> None:
    key, _ = register_passkey(alice)
    anon = Anonymous(server)
    started = anon.post("/v1/auth/login/passkey/options", headers={"User-Agent": "browser-a"})
    cookie = session_cookie(started, PASSKEY_COOKIE)
    answer = assertion_response(key, started.json()["publicKey"], server.origin)
    before = _state(db, alice)
    for headers in (
        {"User-Agent": "browser-a"},  # no cookie
        {"User-Agent": "browser-a", "Cookie": f"{PASSKEY_COOKIE}=forged"},
        {"User-Agent": "browser-b", "Cookie": f"{PASSKEY_COOKIE}={cookie}"},  # copied elsewhere
        {"User-Agent": "browser-a", "Cookie": f"{PASSKEY_COOKIE}={cookie}"},  # burnt by the copy
    ):
        refused = anon.post("/v1/auth/login/passkey", json={"passkey": answer}, headers=headers)
        _refused(refused, 401, "passkey_ceremony_invalid")
    assert _state(db, alice) == before
    # Replay of a successful sign-in's response and cookie.
    ok = passkey_login(server, key, user_agent="browser-c")
    assert ok.status_code == 200


@pytest.mark.checklist("C1", red="drop the origin check (verify_origin) in webauthn._server")
def test_another_origin_rp_id_or_no_user_verification_is_refused(
    server: Server, db: Database, alice: Actor
) -> None:
    key, _ = register_passkey(alice)
    before = _state(db, alice)
    for tamper in (
        {"origin": "http://127.0.0.1.evil.test"},
        {"origin": server.origin.replace("127.0.0.1", "localhost")},
        {"rp_id": "evil.test"},
        {"uv": False},
    ):
        _refused(passkey_login(server, key, **tamper), 403, "passkey_rejected")
    assert _state(db, alice) == before
    # Registration from another origin is refused too.
    options = alice.post(PASSKEY_OPTIONS).json()["publicKey"]
    _, phished = register_response(options, "http://evil.test")
    _refused(alice.post(PASSKEYS, json={"name": "x", "passkey": phished}), 403, "passkey_rejected")
    assert _state(db, alice) == before


@pytest.mark.checklist(
    "C1", red="accept any counter in PasskeyRepository.claim_use (drop the sign_count condition)"
)
def test_a_cloned_authenticator_is_refused_audited_and_mailed(
    server: Server, db: Database, alice: Actor
) -> None:
    key, _ = register_passkey(alice)
    assert passkey_login(server, key, count=7).status_code == 200
    before = _state(db, alice)
    for stale in (7, 3):  # the clone replays an old counter state
        cloned = passkey_login(server, key, count=stale)
        _refused(cloned, 403, "passkey_rejected")
        assert "counter" in cloned.json()["detail"]
    assert _state(db, alice) == before
    assert (
        db.scalar(
            "SELECT count(*) FROM audit_event WHERE action = 'mfa.passkey_counter_regressed' "
            "AND target_id = %s AND outcome = 'failure'",
            alice.user_id,
        )
        == 2
    )
    assert "counter went backwards" in db.last_mail(alice.email, "security_notice")
    assert passkey_login(server, key, count=8).status_code == 200


def test_another_users_passkey_is_refused_everywhere(
    server: Server, db: Database, alice: Actor, mallory: Actor
) -> None:
    alice_key, _ = register_passkey(alice)
    mallory_key, _ = register_passkey(mallory)
    _age_factor(db, mallory)
    before = _state(db, alice, mallory)
    # Step-up of mallory's session answered with alice's key (and her user handle).
    options = mallory.post("/v1/auth/step-up/passkey-options").json()["publicKey"]
    answer = assertion_response(alice_key, options, server.origin)
    # Without a user handle (allowed outside discoverable sign-in): only the owner check stands.
    del answer["response"]["userHandle"]
    _refused(
        mallory.post("/v1/auth/step-up", json={"passkey": answer}), 403, "invalid_second_factor"
    )
    # Alice's half session (right password), its prompt answered with mallory's key.
    challenge = session_cookie(
        login_step_one(server, alice.email, alice.password), CHALLENGE_COOKIE
    )
    headers = {"User-Agent": "test-browser", "Cookie": f"{CHALLENGE_COOKIE}={challenge}"}
    prompt = Anonymous(server).post("/v1/auth/login/second-factor/passkey-options", headers=headers)
    answer = assertion_response(mallory_key, prompt.json()["publicKey"], server.origin)
    wrong_user = second_factor(server, challenge, {"passkey": answer})  # type: ignore[dict-item]
    _refused(wrong_user, 401, "invalid_credentials")
    # Alice's key presented with mallory's user handle at a passkey sign-in.
    alice_key.user_handle = mallory_key.user_handle
    _refused(passkey_login(server, alice_key), 403, "passkey_rejected")
    assert _state(db, alice, mallory) == before


@pytest.mark.checklist("C1", red="drop the passkey branch's password_ok test in complete_login")
def test_passkey_as_the_second_factor_of_a_password_sign_in(
    server: Server, db: Database, alice: Actor
) -> None:
    key, _ = register_passkey(alice)
    for password, expected in ((alice.password + "x", 401), (alice.password, 200)):
        first = login_step_one(server, alice.email, password)
        challenge = session_cookie(first, CHALLENGE_COOKIE)
        headers = {"User-Agent": "test-browser", "Cookie": f"{CHALLENGE_COOKIE}={challenge}"}
        options = Anonymous(server).post(
            "/v1/auth/login/second-factor/passkey-options", headers=headers
        )
        assert options.status_code == 200, options.text
        allowed = options.json()["publicKey"]["allowCredentials"]
        assert [c["id"] for c in allowed] == [b64(key.credential_id)]
        answer = assertion_response(key, options.json()["publicKey"], server.origin)
        done = second_factor(server, challenge, {"passkey": answer})  # type: ignore[dict-item]
        assert done.status_code == expected, done.text
        if expected == 401:
            assert done.json()["code"] == "invalid_credentials"
    # Without the prompt (no ceremony for this half session) the answer is the same for a right
    # and a wrong password.
    for password in (alice.password, alice.password + "x"):
        challenge = session_cookie(login_step_one(server, alice.email, password), CHALLENGE_COOKIE)
        answer = assertion_response(key, {"challenge": b64(b"y" * 32)}, server.origin)
        refused = second_factor(server, challenge, {"passkey": answer})  # type: ignore[dict-item]
        _refused(refused, 401, "passkey_ceremony_invalid")


@pytest.mark.checklist("C1", red="drop dependencies=FRESH from the passkey options route")
def test_adding_or_removing_a_passkey_needs_a_fresh_factor(
    server: Server, db: Database, alice: Actor
) -> None:
    enrol_totp(alice)
    key, created = register_passkey(alice)  # fresh from enrolment
    assert created["recovery_codes"] is None  # not the first factor
    _age_factor(db, alice)
    before = _state(db, alice)
    for method, path in (
        ("POST", PASSKEY_OPTIONS),
        ("POST", PASSKEYS),
        ("DELETE", f"{PASSKEYS}/{created['id']}"),
    ):
        refused = alice.request(method, path, json={} if method == "POST" else None)
        _refused(refused, 401, "step_up_required")
    assert _state(db, alice) == before
    # A passkey is a fresh factor for step-up.
    stepped = step_up_with_passkey(alice, key)
    assert stepped.status_code == 200, stepped.text
    assert alice.delete(f"{PASSKEYS}/{created['id']}").status_code == 204
    assert "passkey was removed" in db.last_mail(alice.email, "security_notice")


def test_removing_the_last_factor_returns_sign_in_to_the_password(
    server: Server, db: Database, alice: Actor
) -> None:
    _, created = register_passkey(alice)
    assert alice.delete(f"{PASSKEYS}/{created['id']}").status_code == 204
    assert (
        db.scalar("SELECT second_factor_at FROM user_account WHERE id = %s", alice.user_id) is None
    )
    assert not db.scalar("SELECT count(*) FROM recovery_code WHERE user_id = %s", alice.user_id)
    assert login_step_one(server, alice.email, alice.password).status_code == 200


@pytest.mark.checklist("C2", red="drop Passkey.user_id == user_id in PasskeyRepository.rename")
def test_list_rename_and_delete_reach_only_my_passkeys(
    server: Server, db: Database, alice: Actor, mallory: Actor
) -> None:
    _, mine = register_passkey(alice, "Alice key")
    register_passkey(mallory, "Mallory key")
    assert [k["name"] for k in mallory.get(PASSKEYS).json()["items"]] == ["Mallory key"]
    before = _state(db, alice, mallory)
    target = f"{PASSKEYS}/{mine['id']}"
    _refused(mallory.patch(target, json={"name": "pwned"}), 404, "passkey_not_found")
    _refused(mallory.delete(target), 404, "passkey_not_found")
    assert _state(db, alice, mallory) == before
    renamed = alice.patch(target, json={"name": "  Phone  "})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Phone"


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda p: p["response"].update(clientDataJSON="bm90LWpzb24"), 400, "passkey_malformed"),
        (lambda p: p["response"].update(authenticatorData="AAAA"), 400, "passkey_malformed"),
        (lambda p: p.update(rawId="AAAA"), 400, "passkey_malformed"),
        (lambda p: p["response"].update(signature="!!"), 422, "validation_failed"),
        (lambda p: p.pop("response"), 422, "validation_failed"),
        (lambda p: p.update(type="password"), 422, "validation_failed"),
    ],
)
def test_malformed_webauthn_json_is_a_clear_4xx(
    server: Server, alice: Actor, mutate: Any, status: int, code: str
) -> None:
    key, _ = register_passkey(alice)
    anon = Anonymous(server)
    started = anon.post("/v1/auth/login/passkey/options", headers={"User-Agent": "ua"})
    cookie = session_cookie(started, PASSKEY_COOKIE)
    answer = assertion_response(key, started.json()["publicKey"], server.origin)
    mutate(answer)
    refused = anon.post(
        "/v1/auth/login/passkey",
        json={"passkey": answer},
        headers={"User-Agent": "ua", "Cookie": f"{PASSKEY_COOKIE}={cookie}"},
    )
    _refused(refused, status, code)


@pytest.fixture(scope="module")
def tight(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = second_server_env(
        server,
        RATE_LIMIT_LOGIN_IP="4/minute",
        RATE_LIMIT_KEY_PREFIX=f"lp-passkey-{secrets.token_hex(6)}",
    )
    srv = start_server(env, Path(tmp_path_factory.mktemp("tight-passkeys")) / "server.log")
    yield srv
    stop_server(srv)


@pytest.mark.checklist(
    "C1", red="drop limit_by_ip(Budget.LOGIN_IP) from the passkey sign-in routes"
)
def test_passkey_sign_in_is_rate_limited_like_login(tight: Server) -> None:
    anon = Anonymous(tight)
    for _ in range(4):
        assert anon.post("/v1/auth/login/passkey/options").status_code == 200
    for path in ("/v1/auth/login/passkey/options", "/v1/auth/login/passkey"):
        limited = anon.post(path, json={} if path.endswith("passkey") else None)
        _refused(limited, 429, "rate_limited")
        assert int(limited.headers["retry-after"]) > 0


@pytest.mark.checklist("C1", red="drop the is_active check from passkeys.service.login")
def test_a_suspended_account_cannot_sign_in_with_its_passkey(
    server: Server, db: Database, alice: Actor
) -> None:
    key, _ = register_passkey(alice, "Phone")
    with db.connect() as conn:  # suspended as an admin would (the judge's connection)
        conn.execute("UPDATE user_account SET suspended_at = now() WHERE id = %s", (alice.user_id,))
    count = "SELECT count(*) FROM user_session WHERE user_id = %s"
    sessions = db.scalar(count, alice.user_id)
    _refused(passkey_login(server, key), 403, "passkey_rejected")
    assert db.scalar(count, alice.user_id) == sessions  # no session for a suspended account
