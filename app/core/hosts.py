"""Trusted hosts: an unknown ``Host`` gets a problem+json 400 (Starlette's answers plain text).

Links the service builds (e-mail) use ``PUBLIC_URL``, never the request's ``Host``; this check
keeps host-header games (cache poisoning, password-reset poisoning) from reaching any route.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import problem_response


class TrustedHostsMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str]) -> None:
        self.app = app
        self.exact = {h.lower() for h in allowed_hosts if not h.startswith("*.")}
        self.suffixes = tuple(h.lower()[1:] for h in allowed_hosts if h.startswith("*."))
        self.any = "*" in allowed_hosts

    def allowed(self, host: str) -> bool:
        if self.any:
            return True
        host = host.lower()
        if host.startswith("["):  # IPv6 literal with optional port
            name = host.split("]", 1)[0] + "]"
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = [v.decode("latin-1") for k, v in scope["headers"] if k == b"host"]
        if len(hosts) == 1 and self.allowed(hosts[0]):
            await self.app(scope, receive, send)
            return
        response = problem_response(
            400, code="invalid_host", title="Invalid host", detail="Unknown Host header."
        )
        await response(scope, receive, send)
