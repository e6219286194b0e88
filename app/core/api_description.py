"""The OpenAPI description shown at ``/docs``: how a client signs in and keeps its session.

Kept beside the code that decides it (``Settings.session_cookie_over_plain_http``) so the page a
developer reads first says what the running server actually does.
"""

from __future__ import annotations

from app.core.config import Settings

_INTRO = """\
Launchproof's HTTP API. Every error is `application/problem+json` with a stable `code`; every
private operation takes the session cookie or a workspace API key (the `session` and `apiKey`
security schemes). Chat turns stream as server-sent events unless `Accept: application/json` is
sent (the `text/event-stream` item schemas name the events)."""

_SESSIONS = """\
**Signing in.** `POST /v1/auth/login` sets the session cookie; send it back, with an `Origin`
header naming an allowed origin, on every later request (unsafe methods without a matching
`Origin` are refused as cross-site). Workspace automation uses an API key instead:
`Authorization: Bearer <key>`, no cookie, no `Origin` needed.

**The cookie.** In production (and tests) it is `__Host-lp_session` with `Secure; HttpOnly;
SameSite=Lax; Path=/`: sent only over https. In development served on plain http loopback
(`make run`: `PUBLIC_URL` `http://127.0.0.1:…` or `http://localhost:…`) it is `lp_session`
without `Secure`, so a non-browser client keeps its session, e.g.
`httpx.Client(base_url="http://127.0.0.1:8000", headers={"Origin": "http://127.0.0.1:8000"})`."""


def api_description(settings: Settings) -> str:
    current = f"This server's session cookie: `{settings.session_cookie_name}`."
    return f"{_INTRO}\n\n{_SESSIONS}\n\n{current}"
