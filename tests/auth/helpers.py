"""Small helpers for the auth, API-key and admin router attacks (HTTP and observation only)."""

from __future__ import annotations

import hashlib
import hmac
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories.users import login

# assert_problem lives in tests/problems.py; imported here too for the tests/auth modules.
from tests.problems import assert_problem  # noqa: F401
from tests.support import Actor, Server

COOKIE_NAME = "__Host-lp_session"
FOREIGN_ORIGIN = "https://evil.example"
# Tables an attack must leave exactly as they were.
GUARDED_TABLES = (
    "user_account",
    "user_session",
    "workspace",
    "workspace_membership",
    "api_key",
    "invitation",
    "one_time_token",
    "email_outbox",
)


def without_request_id(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    body.pop("request_id", None)
    return body


def send(server: Server, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request with exactly the headers given: no Origin, no cookie unless passed."""
    return httpx.request(method, server.url + path, timeout=30, **kwargs)


def cookie_header(token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE_NAME}={token}"}


@dataclass(frozen=True)
class KeyClient:
    """A script holding an API key: ``Authorization: Bearer``, no cookie, no Origin."""

    server: Server
    key: str

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}", **kwargs.pop("headers", {})}
        return send(self.server, method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)


def another_session(actor: Actor) -> Actor:
    """The same person signed in a second time (a second browser)."""
    return login(actor.server, actor.email, actor.password)


def is_signed_in(actor: Actor) -> bool:
    status = actor.get("/v1/me").status_code
    assert status in (200, 401), status
    return status == 200


def keyed_hash(server: Server, purpose: str, token: str) -> bytes:
    """HMAC-SHA256(SECRET_KEY, purpose NUL token), computed independently of the app."""
    secret = server.env["SECRET_KEY"].encode()
    return hmac.new(secret, purpose.encode() + b"\x00" + token.encode(), hashlib.sha256).digest()


def cookie_attributes(response: httpx.Response, name: str = COOKIE_NAME) -> dict[str, str]:
    """The attributes of the ``name`` Set-Cookie header, keys lower-cased (value under "")."""
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key != name:
            continue
        value, *attributes = (part.strip() for part in rest.split(";"))
        parsed = {"": value}
        for attribute in attributes:
            attr_name, _, attr_value = attribute.partition("=")
            parsed[attr_name.lower()] = attr_value
        return parsed
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


def median_durations(
    calls: dict[str, Callable[[], httpx.Response]], *, expected: int, tries: int = 5
) -> dict[str, float]:
    """Median wall time of each call, interleaved round by round so load noise hits all alike."""
    samples: dict[str, list[float]] = {label: [] for label in calls}
    for _ in range(tries):
        for label, call in calls.items():
            started = time.perf_counter()
            response = call()
            samples[label].append(time.perf_counter() - started)
            assert response.status_code == expected, (label, response.text)
    return {label: statistics.median(values) for label, values in samples.items()}


def assert_similar(durations: dict[str, float], *, ratio: float = 3.0) -> None:
    slowest, fastest = max(durations.values()), min(durations.values())
    assert slowest < fastest * ratio, durations
