"""Pure-ASGI middleware that must wrap everything else."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import request_context
from app.core.error_reporting import report_exception
from app.core.errors import problem_response
from app.core.metrics_http import observe_request
from app.core.outages import sqlstate
from app.core.request_context import Network, is_trusted_peer, resolve_client_ip

log = structlog.get_logger()
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Assign a request id, resolve the client IP, echo ``X-Request-ID`` on every response."""

    def __init__(
        self,
        app: ASGIApp,
        trusted_proxies: list[Network],
        cloudflare_proxies: list[Network] | None = None,
    ) -> None:
        self.app = app
        self.trusted = trusted_proxies
        self.cloudflare = cloudflare_proxies or []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        # Accept a well-formed id from a trusted proxy only; otherwise mint our own.
        peer = scope["client"][0] if scope.get("client") else None
        client_ip = resolve_client_ip(peer, headers, self.trusted, self.cloudflare)
        trusted_peer = is_trusted_peer(peer, self.trusted)
        request_id = (
            incoming if trusted_peer and _INCOMING_ID.match(incoming) else secrets.token_hex(12)
        )
        scope.setdefault("state", {})["client_ip"] = client_ip
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"].append((b"x-request-id", request_id.encode()))
            await send(message)

        started_at = time.perf_counter()
        outcome: dict[str, int] = {}
        try:
            with request_context.bound(request_id, client_ip):
                await self._call_app(scope, receive, send_with_id, outcome)
        finally:
            _log_access(scope, client_ip, outcome.get("status", 500), started_at)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _call_app(
        self, scope: Scope, receive: Receive, send: Send, outcome: dict[str, int]
    ) -> None:
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                outcome["status"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            # Render the bare 500 here, with the request id, and do not re-raise: the server's
            # default handler would log a traceback whose message may hold request data.
            log.error("unhandled exception", exc_type=type(exc).__name__, sqlstate=sqlstate(exc))
            report_exception(exc)  # Sentry, scrubbed, tagged with the request id
            if not started:
                response = problem_response(
                    500,
                    code="internal_error",
                    title="Internal server error",
                    detail="An unexpected error occurred. Quote the request id when reporting it.",
                )
                outcome["status"] = 500
                await response(scope, receive, send)


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/v1/bots/{bot_id}``), never the raw path or query."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else "<unmatched>"


def _log_access(scope: Scope, client_ip: str | None, status: int, started_at: float) -> None:
    """One access line per request: ids only, from the principal the request resolved."""
    fields: dict[str, Any] = {}
    principal = scope.get("state", {}).get("principal")
    context = getattr(principal, "log_context", None)
    if isinstance(context, dict):
        fields.update(context)
    route = route_template(scope)
    seconds = time.perf_counter() - started_at
    observe_request(scope.get("method"), route, status, seconds)
    log.info(
        "request handled",
        method=scope.get("method"),
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 2),
        client_ip=client_ip,
        **fields,
    )
