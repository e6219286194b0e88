"""Second factors through the public API: enrol TOTP, sign in in two steps, step up.

Codes come from ``pyotp`` with the enrolled secret, as an authenticator app computes them. A code
is accepted once per 30-second step and never one from an earlier step, so ``next_code`` hands
out increasing steps and waits only when two were spent in the current one.
"""

from __future__ import annotations

import time

import httpx
import pyotp

from tests.support import Actor, Anonymous, Server, session_cookie

CHALLENGE_COOKIE = "__Host-lp_login"
_spent: dict[str, int] = {}


def next_code(secret: str) -> str:
    """A code for a time step this process has not used yet for ``secret``: the current step,
    else the next one (the server accepts ±1 step), else wait for a new step."""
    while True:
        current = int(time.time()) // 30
        for step in (current, current + 1):
            if _spent.get(secret, -1) < step:
                _spent[secret] = step
                return pyotp.TOTP(secret).at(step * 30)
        time.sleep(30 - time.time() % 30 + 0.05)


def enrol_totp(actor: Actor) -> list[str]:
    """Enrol an authenticator app for ``actor`` (its session becomes freshly verified); returns
    the recovery codes and keeps the secret on the actor."""
    started = actor.post("/v1/auth/mfa/totp")
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = actor.post("/v1/auth/mfa/totp/confirm", json={"code": next_code(secret)})
    assert confirmed.status_code == 200, confirmed.text
    actor.totp_secret = secret
    _fresh_since[actor.email] = time.monotonic()
    codes: list[str] = confirmed.json()["recovery_codes"]
    return codes


def step_up(actor: Actor) -> httpx.Response:
    assert actor.totp_secret is not None
    response = actor.post("/v1/auth/step-up", json={"code": next_code(actor.totp_secret)})
    assert response.status_code == 200, response.text
    _fresh_since[actor.email] = time.monotonic()
    return response


# When each actor last presented a factor (enrolment, two-step login or step-up), to keep
# long-lived actors (the session-wide staff) inside the step-up window without a code per use.
_fresh_since: dict[str, float] = {}
FRESH_FOR_SECONDS = 8 * 60  # under STEP_UP_MAX_AGE_SECONDS (600) with a margin


def keep_fresh(actor: Actor) -> Actor:
    """Step ``actor`` up when its last factor is older than ``FRESH_FOR_SECONDS``."""
    if actor.totp_secret is not None:
        since = _fresh_since.get(actor.email)
        if since is None or time.monotonic() - since > FRESH_FOR_SECONDS:
            step_up(actor)
    return actor


def login_step_one(
    server: Server, email: str, password: str, user_agent: str = "test-browser"
) -> httpx.Response:
    return Anonymous(server).post(
        "/v1/auth/login",
        json={"email": email, "password": password},
        headers={"User-Agent": user_agent},
    )


def second_factor(
    server: Server, challenge: str, proof: dict[str, str], user_agent: str = "test-browser"
) -> httpx.Response:
    return Anonymous(server).post(
        "/v1/auth/login/second-factor",
        json=proof,
        headers={"User-Agent": user_agent, "Cookie": f"{CHALLENGE_COOKIE}={challenge}"},
    )


def login_with_totp(server: Server, email: str, password: str, secret: str) -> Actor:
    first = login_step_one(server, email, password)
    assert first.status_code == 202, first.text
    done = second_factor(
        server, session_cookie(first, CHALLENGE_COOKIE), {"code": next_code(secret)}
    )
    assert done.status_code == 200, done.text
    return Actor(
        server=server,
        email=email,
        password=password,
        user_id=done.json()["id"],
        cookie=session_cookie(done),
        totp_secret=secret,
    )
