"""HTTPS only, in production: plain-HTTP browser navigations are redirected, API calls refused.

The scheme is the trusted proxy's ``X-Forwarded-Proto`` (Cloudflare terminates TLS) when the socket
peer is a trusted proxy, else the scheme of the connection itself; from any other peer the header
is ignored, so a client cannot claim HTTPS. The redirect target is always ``PUBLIC_URL``'s origin,
never the request's ``Host``. Health and readiness probes are exempt: load balancers speak HTTP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import RedirectResponse, Response
from starlette.types import Scope

from app.core.errors import problem_response
from app.core.request_head import RequestHead

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/readyz/dependencies"})


def request_scheme(scope: Scope, head: RequestHead, trusted_peer: bool) -> str:
    if trusted_peer and head.forwarded_proto is not None:
        # Left-most hop: what the client spoke to the first proxy.
        return head.forwarded_proto.decode("latin-1").split(",")[0].strip().lower()
    return str(scope.get("scheme", "http")).lower()


class HTTPSOnly:
    def __init__(self, *, public_url: str) -> None:
        parts = urlsplit(public_url)
        self.origin = f"https://{parts.netloc}"

    def refusal(self, scope: Scope, head: RequestHead, trusted_peer: bool) -> Response | None:
        """The 308 or 403 to answer, or None for HTTPS (and for the exempt probes)."""
        if scope["path"] in EXEMPT_PATHS or request_scheme(scope, head, trusted_peer) == "https":
            return None
        accept = head.accept or b""
        if scope["method"] in ("GET", "HEAD") and b"text/html" in accept.lower():
            path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            # Prefixed by the configured origin, the path cannot name another host.
            target = self.origin + (path if path.startswith("/") else "/")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            return RedirectResponse(target, status_code=308)
        return problem_response(
            403,
            code="https_required",
            title="HTTPS required",
            detail="This API is served over HTTPS only.",
        )
