"""A second-factor brute force meets the rate limit; the account is not locked (C1).

A dedicated server on the same database with a tight factor budget trusts the local peer as a
proxy, so the attacker and the owner come from different client IPs (``X-Forwarded-For``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.auth.conftest import second_server_env
from tests.factories.mfa import CHALLENGE_COOKIE, enrol_totp, next_code
from tests.servers import ServerFactory
from tests.support import (
    Actor,
    Anonymous,
    Database,
    Server,
    session_cookie,
)

TIGHT = "3/minute"


@pytest.fixture(scope="module")
def tight(server: Server, server_factory: ServerFactory) -> Iterator[Server]:
    env = second_server_env(
        server,
        RATE_LIMIT_SECOND_FACTOR_ACCOUNT=TIGHT,
        RATE_LIMIT_KEY_PREFIX=f"lp-mfa-{secrets.token_hex(6)}",
        TRUSTED_PROXY_CIDRS="127.0.0.1/32",
    )
    with server_factory(env, name="tight") as srv:
        yield srv


def _from(
    srv: Server, ip: str, path: str, body: dict[str, str], cookie: str = ""
) -> httpx.Response:
    headers = {"X-Forwarded-For": ip, "User-Agent": "test-browser"}
    if cookie:
        headers["Cookie"] = f"{CHALLENGE_COOKIE}={cookie}"
    return Anonymous(srv).post(path, json=body, headers=headers)


def _challenge(srv: Server, ip: str, actor: Actor) -> str:
    first = _from(srv, ip, "/v1/auth/login", {"email": actor.email, "password": actor.password})
    assert first.status_code == 202, first.text
    return session_cookie(first, CHALLENGE_COOKIE)


@pytest.mark.checklist("C1", red="drop the SECOND_FACTOR_ACCOUNT hit in complete_login")
def test_factor_brute_force_is_limited_and_the_owner_still_signs_in(
    tight: Server, db: Database, alice: Actor
) -> None:
    enrol_totp(alice)
    assert alice.totp_secret is not None
    attacker, owner = "10.9.8.7", "10.1.2.3"
    challenge = _challenge(tight, attacker, alice)
    before = db.snapshot("totp_factor", "recovery_code")
    answers = [
        _from(tight, attacker, "/v1/auth/login/second-factor", {"code": f"{n:06d}"}, challenge)
        for n in range(4)
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert db.snapshot("totp_factor", "recovery_code") == before
    assert db.scalar("SELECT suspended_at FROM user_account WHERE id = %s", alice.user_id) is None
    # The owner, elsewhere, is not locked out.
    mine = _challenge(tight, owner, alice)
    done = _from(
        tight,
        owner,
        "/v1/auth/login/second-factor",
        {"code": next_code(alice.totp_secret)},
        mine,
    )
    assert done.status_code == 200, done.text
