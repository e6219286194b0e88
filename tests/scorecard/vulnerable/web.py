"""How the vulnerable app reads requests: credentials it half-checks and bodies it never validates.

Each helper is wrong on purpose, the way real services go wrong:
- ``caller``: the session cookie is ``<user id>.<random>`` and only the part before the dot is
  read, so a tampered cookie still signs in; revoked sessions and revoked or expired API keys
  keep working; an unknown cookie or key gets its own 401 body (one echoes the cookie), unlike
  the problem+json a request with no credential gets.
- ``read_json``: whatever parses is accepted (no types, no sizes, unknown fields welcome); the
  values go into a "document store" that chokes on NUL, 64-bit overflow and deep nesting with an
  uncaught exception, which the error page (``errors.py``) turns into a 500 traceback.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request
from starlette.responses import JSONResponse, Response

from tests.scorecard.vulnerable.store import STORE, Record, page

SESSION_COOKIE = "session"  # no __Host- prefix
_MAX_DEPTH = 32  # the document store's nesting limit, discovered by crashing
_INT64 = 2**63


# With no credential at all the answer is the real API's (RFC 9457, app/core/errors.py): the
# checker must find the flaws behind it, not stop at a first superficial difference.
def no_credential() -> JSONResponse:
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Authentication required",
            "status": 401,
            "detail": "Authentication required",
            "code": "unauthenticated",
        },
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="launchproof"'},
        media_type="application/problem+json",
    )


class Reject(Exception):
    """An answer decided before the route's work: rendered as is by ``errors.py``."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def answer(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)


def not_found(what: str, ident: str) -> Reject:
    # Plain JSON (not problem+json) that names the id back.
    return Reject(JSONResponse({"error": f"{what} {ident} does not exist"}, status_code=404))


def caller(request: Request) -> Record:
    """The signed-in user, by cookie or API key, checked as loosely as described above."""
    cookie = request.cookies.get(SESSION_COOKIE)
    bearer = request.headers.get("authorization", "")
    if cookie:
        user = STORE.users.get(cookie.split(".", 1)[0])
        if user is None:
            raise Reject(
                JSONResponse({"error": "invalid session", "cookie": cookie}, status_code=401)
            )
        return user
    if bearer.lower().startswith("bearer "):
        key_id = STORE.key_secrets.get(bearer[7:].strip())
        if key_id is None:
            raise Reject(Response("bad api key", status_code=401, media_type="text/plain"))
        return STORE.users[STORE.api_keys[key_id]["user_id"]]
    raise Reject(no_credential())


def optional_caller(request: Request) -> Record | None:
    """For the routes that forgot authentication: who it is when someone says, else nobody."""
    try:
        return caller(request)
    except Reject:
        return None


async def read_json(request: Request) -> Any:
    """The body as parsed JSON (any shape), pushed through the store's value checks."""
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    _store_value(data, 0)
    return data


def _store_value(value: Any, depth: int) -> None:
    """What the store does with a value: raise, uncaught, on what it cannot hold."""
    if depth > _MAX_DEPTH:
        raise RecursionError(f"document nested deeper than {_MAX_DEPTH} levels")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("A string literal cannot contain NUL (0x00) characters.")
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        raise OverflowError("Python int too large to convert to a 64-bit integer")
    if isinstance(value, float) and not math.isfinite(value):  # 1e999, NaN, Infinity
        raise OverflowError("cannot store a number that is not finite")
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for child in children:
        _store_value(child, depth + 1)


def text(data: Any, key: str, default: str | None = None) -> Any:
    """A field of a JSON object, trusted as is: a list body or a number where text belongs
    fails later with an AttributeError (500), never a 4xx."""
    value = data.get(key, default)
    return value.strip() if value is not None else None


def listed(table: dict[str, Record], workspace_id: str) -> JSONResponse:
    """A workspace's records of one kind, for whoever asks."""
    return answer(page([r for r in table.values() if r["workspace_id"] == workspace_id]))


def removed(table: dict[str, Record], what: str, ident: str) -> Response:
    """Delete any record by id, whoever asks (204)."""
    lookup(table, what, ident)
    del table[ident]
    return no_content()


def lookup(table: dict[str, Record], what: str, ident: str) -> Record:
    """Any record by id, whoever asks (the IDOR)."""
    record = table.get(ident)
    if record is None:
        raise not_found(what, ident)
    return record
