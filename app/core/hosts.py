"""Trusted hosts: an unknown ``Host`` gets a problem+json 400 (Starlette's answers plain text).

Links the service builds (e-mail) use ``PUBLIC_URL``, never the request's ``Host``; this check
keeps host-header games (cache poisoning, password-reset poisoning) from reaching any route.
Exactly one ``Host`` header is accepted.
"""

from __future__ import annotations

from starlette.responses import Response

from app.core.errors import problem_response
from app.core.request_head import RequestHead


class TrustedHosts:
    def __init__(self, *, allowed_hosts: list[str]) -> None:
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

    def refusal(self, head: RequestHead) -> Response | None:
        """The 400 to answer, or None when the request names exactly one allowed host."""
        if len(head.hosts) == 1 and self.allowed(head.hosts[0].decode("latin-1")):
            return None
        return problem_response(
            400, code="invalid_host", title="Invalid host", detail="Unknown Host header."
        )
