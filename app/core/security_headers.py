"""Security headers on every response (pure ASGI, so errors, 404 and 405 get them too).

API responses are JSON and never rendered as documents: the CSP forbids everything and framing.
The Swagger page (development only, when docs are enabled) gets its own CSP (scripts and styles
from this origin) on its HTML path only, so the API's policy stays closed. The console's pages
set a strict policy of their own (app/console/policy.py), which wins over this default.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The Swagger page (app/core/docs.py) loads its bundle and boot script from this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
DOCS_PATHS = frozenset({"/docs"})


class SecurityHeadersMiddleware:
    """Add the fixed security headers; ``Cache-Control: no-store`` when the caller authenticated."""

    def __init__(
        self, app: ASGIApp, *, hsts: bool, docs_enabled: bool, session_cookie_name: str
    ) -> None:
        self.app = app
        self.hsts = hsts
        self.docs_enabled = docs_enabled
        self.cookie_prefix = session_cookie_name.lower() + "="

    def _authenticated(self, scope: Scope) -> bool:
        for key, value in scope["headers"]:
            if key == b"authorization":
                return True
            if key == b"cookie":
                cookies = value.decode("latin-1").lower().split(";")
                if any(c.strip().startswith(self.cookie_prefix) for c in cookies):
                    return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if self.docs_enabled and scope["path"] in DOCS_PATHS else API_CSP
        fixed: list[tuple[bytes, bytes]] = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"content-security-policy", csp.encode()),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if self.hsts:
            fixed.append((b"strict-transport-security", HSTS.encode()))
        if self._authenticated(scope):
            fixed.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in headers}
                # A route's own value (say, a cacheable public response) wins over the default.
                headers.extend((k, v) for k, v in fixed if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
