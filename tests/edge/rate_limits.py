"""Helpers of the rate-limit tests (tests/edge/test_rate_limits.py, test_rate_limit_store.py): a
tight environment derived from the shared server, fresh client IPs, and the 429 assertion.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import httpx

from tests.support import (
    GENEROUS_RATE_LIMITS,
    Actor,
    Anonymous,
    Server,
)

TIGHT = "3/minute"
LOGIN = "/v1/auth/login"
SPOOFING_HEADERS = ("X-Forwarded-For", "CF-Connecting-IP", "X-Real-IP", "True-Client-IP")
_used: set[str] = set()  # client IPs handed out by fresh_ip


def tight_env(server: Server, **extra: str) -> dict[str, str]:
    return {
        **server.env,
        **dict.fromkeys(GENEROUS_RATE_LIMITS, TIGHT),
        "RATE_LIMIT_KEY_PREFIX": f"lp-edge-{secrets.token_hex(6)}",
        **extra,
    }


def fresh_ip() -> str:
    """A fresh client IP (10/8 is not a trusted proxy here, so the local proxy's word is it)."""
    while True:
        candidate = ".".join(["10", *(str(secrets.randbelow(254) + 1) for _ in range(3))])
        if candidate not in _used:
            _used.add(candidate)
            return candidate


def post_from(
    srv: Server, path: str, body: dict[str, Any], ip: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return Anonymous(srv).post(path, json=body, headers=headers)


def login_from(srv: Server, email: str, ip: str | None = None) -> int:
    return post_from(srv, LOGIN, {"email": email, "password": "not-the-password"}, ip).status_code


def as_on(actor: Actor, srv: Server) -> Actor:
    """The same signed-in person (session cookie) talking to another server on the same DB."""
    return dataclasses.replace(actor, server=srv, workspaces=dict(actor.workspaces))


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= 61
