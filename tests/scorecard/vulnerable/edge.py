"""The vulnerable app's outermost layer: everything a careless edge does wrong, in one middleware.

- CORS: any ``Origin`` is reflected with ``Access-Control-Allow-Credentials: true``, preflights
  included (a look-alike or hostile site reads signed-in responses).
- Headers: a ``Server: vulnerable/1.0`` banner and ``X-Powered-By``; no HSTS, no CSP, no
  ``X-Content-Type-Options``, no frame protection. Plain http is served, never redirected.
- Errors: an unexpected exception becomes a 500 ``text/plain`` page with the traceback, the
  request body echoed back and the settings, including a secret-looking API key made at start.
- Logging: one line per request with every header (``Cookie``, ``Authorization``), the first
  bytes of the body (the login password) and the ``Set-Cookie`` it answered.
"""

from __future__ import annotations

import secrets
import time
import traceback
from pathlib import Path
from typing import Any

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LOGGED_BODY = 2048
BODY_KEY = "vulnerable.body"
BANNER = [(b"server", b"vulnerable/1.0"), (b"x-powered-by", b"Express/4.16.0")]


def leaked_settings() -> str:
    """The settings block of the error page. The values are made here, per process, so no
    credential-shaped literal sits in the repository; they look real to a secret scanner."""
    return (
        f"DEBUG=True\nOPENAI_API_KEY=sk-proj-{secrets.token_urlsafe(24)}\n"
        f"DATABASE_URL=postgresql://vulnerable:{secrets.token_hex(8)}@127.0.0.1:5432/vulnerable\n"
    )


SETTINGS = leaked_settings()


def error_page(scope: Scope, exc: BaseException) -> Response:
    """The 500 page: traceback, the request body echoed, the settings (the app's exception
    handler for ``Exception``)."""
    body = bytes(scope.get(BODY_KEY, b""))[:500].decode("utf-8", "replace")
    page = (
        "Internal Server Error\n\n"
        + "".join(traceback.format_exception(exc))
        + f"\nRequest: {scope['method']} {scope['path']}\nBody: {body}\n\nSettings:\n{SETTINGS}"
    )
    return PlainTextResponse(page, status_code=500)


class VulnerableEdge:
    def __init__(self, app: ASGIApp, log_path: Path) -> None:
        self.app = app
        self.log_path = log_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        seen = bytearray()
        answered: dict[str, Any] = {"status": 0, "set_cookie": []}

        async def tee() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(seen) < _LOGGED_BODY:
                seen.extend(message.get("body", b"")[: _LOGGED_BODY - len(seen)])
            return message

        async def dress(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                raw = list(message.get("headers", []))
                answered["set_cookie"] = [v.decode() for k, v in raw if k == b"set-cookie"]
                message["headers"] = raw + BANNER + _cors(origin)
            await send(message)

        scope[BODY_KEY] = seen  # for the error page
        try:
            if scope["method"] == "OPTIONS" and origin:
                await _preflight(headers, dress)
            else:
                await self.app(scope, tee, dress)
        except Exception:  # the error page (error_page) has answered: nothing left to say
            if not answered["status"]:
                raise
        finally:
            self._log(scope, headers, bytes(seen), answered)

    def _log(
        self, scope: Scope, headers: dict[str, str], body: bytes, answered: dict[str, Any]
    ) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        line = (
            f"{time.strftime('%Y-%m-%dT%H:%M:%S')} INFO {scope['method']} {scope['path']}"
            f"{'?' + query if query else ''} status={answered['status']} headers={headers}"
            f" body={body.decode('utf-8', 'replace')!r} set_cookie={answered['set_cookie']}\n"
        )
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(line)


def _cors(origin: str | None) -> list[tuple[bytes, bytes]]:
    if not origin:
        return []
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"access-control-allow-credentials", b"true"),
        (b"vary", b"Origin"),
    ]


async def _preflight(headers: dict[str, str], send: Send) -> None:
    """Every preflight granted: any method, whatever headers were asked for."""
    allow = [
        (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        (
            b"access-control-allow-headers",
            headers.get("access-control-request-headers", "*").encode("latin-1"),
        ),
        (b"access-control-max-age", b"86400"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": allow})
    await send({"type": "http.response.body", "body": b""})
