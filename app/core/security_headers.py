"""Security headers on every response (added by the edge layer: errors, 404 and 405 included).

API responses are JSON and never rendered as documents: the CSP forbids everything and framing.
The Swagger page (development only, when docs are enabled) gets its own CSP (scripts and styles
from this origin) on its HTML path only, so the API's policy stays closed. The console's pages
set a strict policy of their own (app/console/policy.py), which wins over this default.
"""

from __future__ import annotations

from app.core.request_head import RequestHead

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The Swagger page (app/core/docs.py) loads its bundle and boot script from this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"
DOCS_PATHS = frozenset({"/docs"})
RawHeaders = list[tuple[bytes, bytes]]
SecurityHeaderSet = tuple[tuple[bytes, bytes], ...]


class SecurityHeaders:
    """The fixed security headers; ``Cache-Control: no-store`` when the caller authenticated."""

    def __init__(self, *, hsts: bool, docs_enabled: bool, session_cookie_name: str) -> None:
        self.docs_enabled = docs_enabled
        self.cookie_prefix = session_cookie_name.lower() + "="
        # Built once: (CSP, authenticated) -> the headers, in the order they are added.
        self._sets: dict[tuple[str, bool], SecurityHeaderSet] = {}
        for csp in (API_CSP, DOCS_CSP):
            fixed = [
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"no-referrer"),
                (b"content-security-policy", csp.encode()),
                (b"x-frame-options", b"DENY"),
                (b"cross-origin-resource-policy", b"same-origin"),
            ]
            if hsts:
                fixed.append((b"strict-transport-security", HSTS.encode()))
            self._sets[(csp, False)] = tuple(fixed)
            self._sets[(csp, True)] = (*fixed, (b"cache-control", b"no-store"))

    def authenticated(self, head: RequestHead) -> bool:
        if head.authorization:
            return True
        for value in head.cookies:
            cookies = value.decode("latin-1").lower().split(";")
            if any(c.strip().startswith(self.cookie_prefix) for c in cookies):
                return True
        return False

    def for_request(self, path: str, head: RequestHead) -> SecurityHeaderSet:
        csp = DOCS_CSP if self.docs_enabled and path in DOCS_PATHS else API_CSP
        return self._sets[(csp, self.authenticated(head))]


def with_security_headers(headers: RawHeaders, fixed: SecurityHeaderSet) -> RawHeaders:
    """``Server`` dropped; each fixed header added unless the route set its own value."""
    kept = [(k, v) for k, v in headers if k.lower() != b"server"]
    present = {k.lower() for k, _ in kept}
    # A route's own value (say, a cacheable public response) wins over the default.
    kept.extend(item for item in fixed if item[0] not in present)
    return kept
