"""HTTPS only, in production: plain-HTTP browser navigations are redirected, API calls refused.

The scheme is the trusted proxy's ``X-Forwarded-Proto`` (Cloudflare terminates TLS) when the socket
peer is a trusted proxy, else the scheme of the connection itself; from any other peer the header
is ignored, so a client cannot claim HTTPS. The redirect target is always ``PUBLIC_URL``'s origin,
never the request's ``Host``. Health and readiness probes are exempt: load balancers speak HTTP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import problem_response
from app.core.request_context import Network, is_trusted_peer

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/readyz/dependencies"})


def request_scheme(scope: Scope, trusted: list[Network]) -> str:
    peer = scope["client"][0] if scope.get("client") else None
    if is_trusted_peer(peer, trusted):
        for key, value in scope["headers"]:
            if key == b"x-forwarded-proto":
                # Left-most hop: what the client spoke to the first proxy.
                proto: bytes = value
                return proto.decode("latin-1").split(",")[0].strip().lower()
    return str(scope.get("scheme", "http")).lower()


class HTTPSOnlyMiddleware:
    def __init__(self, app: ASGIApp, *, public_url: str, trusted_proxies: list[Network]) -> None:
        self.app = app
        parts = urlsplit(public_url)
        self.origin = f"https://{parts.netloc}"
        self.trusted = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in EXEMPT_PATHS
            or request_scheme(scope, self.trusted) == "https"
        ):
            await self.app(scope, receive, send)
            return
        accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
        if scope["method"] in ("GET", "HEAD") and b"text/html" in accept.lower():
            path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
            # Prefixed by the configured origin, the path cannot name another host.
            target = self.origin + (path if path.startswith("/") else "/")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            response: Response = RedirectResponse(target, status_code=308)
        else:
            response = problem_response(
                403,
                code="https_required",
                title="HTTPS required",
                detail="This API is served over HTTPS only.",
            )
        await response(scope, receive, send)
