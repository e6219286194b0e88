"""The edge: the application's one pure-ASGI middleware, outside every route.

It reads the request head once (app/core/request_head.py), runs the edge checks in their fixed
order, and wraps ``send`` once. Each check is a plain object in its own module; this module is
only the order and the plumbing. Request order, first answer wins:

1. request context: the request id and the client IP, bound for everything below (so every
   answer, 400/403/413 included, carries ``X-Request-ID`` and the access line is written);
2. HTTPS only (production; app/core/https.py): 308 for a browser navigation, else 403;
3. trusted hosts (when ``ALLOWED_HOSTS`` is set; app/core/hosts.py): 400;
4. body limits (app/core/body_limit.py): 431 for the head, 413 for a declared length; then the
   body is counted while the route reads it (413) and timed (408);
5. CORS (app/core/cors.py): a preflight is answered here;
6. methods (app/core/methods.py): a plain ``OPTIONS`` is answered here; ``HEAD`` runs as GET.

An answer made at one step gets the headers of the steps before it, never of the ones after:
every answer gets the security headers (app/core/security_headers.py) and ``X-Request-ID``;
the route's answers, the preflight's and the ``OPTIONS`` answer also get the CORS headers; only
the route's get a 405's full ``Allow`` and the empty body of ``HEAD``.

Outermost, the drain (app/core/drain.py): a request cancelled by shutdown in the middle of an
event stream still ends it with an SSE ``error`` event, and the lifespan's shutdown waits for it.

Unexpected exceptions become a bare 500 problem here, with the request id, and are not
re-raised: the server's default handler would log a traceback whose message may hold request data.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core import request_context
from app.core.access_log import log_access
from app.core.body_limit import BodyLimits, BodyTooLarge, CappedBody, too_large
from app.core.cors import StrictCORS
from app.core.drain import Drain, end_cut_stream, is_event_stream
from app.core.error_reporting import report_exception
from app.core.errors import problem_response
from app.core.hosts import TrustedHosts
from app.core.https import HTTPSOnly
from app.core.methods import MethodTable, options_answer, with_full_allow
from app.core.outages import sqlstate
from app.core.request_context import Network, is_trusted_peer, request_id_for, resolve_client_ip
from app.core.request_head import RequestHead, read_head
from app.core.security_headers import SecurityHeaders, SecurityHeaderSet, with_security_headers

log = structlog.get_logger()
_START = "http.response.start"
_BODY = "http.response.body"


class EdgeMiddleware:
    """Request context, HTTPS, hosts, body limits, CORS, methods and headers: one ASGI layer.

    Every control but the request context is optional (``None``: not applied), so a test can
    build the layer with the request context alone.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: list[Network],
        cloudflare_proxies: list[Network] | None = None,
        security_headers: SecurityHeaders | None = None,
        https: HTTPSOnly | None = None,
        hosts: TrustedHosts | None = None,
        bodies: BodyLimits | None = None,
        cors: StrictCORS | None = None,
        methods: MethodTable | None = None,
    ) -> None:
        self.app = app
        self.trusted = trusted_proxies
        self.cloudflare = cloudflare_proxies or []
        self.security_headers = security_headers
        self.https = https
        self.hosts = hosts
        self.bodies = bodies
        self.cors = cors
        self.methods = methods
        self.drain = Drain()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                send = self.drain.lifespan_send(send)
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        if task is None:  # not under asyncio: nothing to track
            await self._http(scope, receive, send)
            return
        self.drain.requests.add(task)
        try:
            await self._http(scope, receive, send)
        finally:
            self.drain.requests.discard(task)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = read_head(scope)
        peer = scope["client"][0] if scope.get("client") else None
        trusted_peer = is_trusted_peer(peer, self.trusted)
        client_ip = resolve_client_ip(peer, head.forwarding, self.trusted, self.cloudflare)
        # Accept a well-formed id from a trusted proxy only; otherwise mint our own.
        request_id = request_id_for(head.request_id, trusted_peer)
        scope.setdefault("state", {})["client_ip"] = client_ip
        structlog.contextvars.bind_contextvars(request_id=request_id)
        fixed = None
        if self.security_headers is not None:
            fixed = self.security_headers.for_request(scope["path"], head)
        exchange = _Exchange(send, fixed, request_id)
        started_at = time.perf_counter()
        try:
            try:
                with request_context.bound(request_id, client_ip):
                    await self._answer(scope, receive, exchange, head, trusted_peer)
            finally:
                log_access(scope, client_ip, exchange.status, started_at)
                structlog.contextvars.unbind_contextvars("request_id")
        except asyncio.CancelledError:
            # A cancellation that reaches this layer is the server's (shutdown past the grace
            # period): a client that goes away ends a streaming response normally.
            if exchange.streaming and not exchange.finished:
                await end_cut_stream(send)
            raise

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        exchange: _Exchange,
        head: RequestHead,
        trusted_peer: bool,
    ) -> None:
        try:
            await self._checked(scope, receive, exchange, head, trusted_peer)
        except Exception as exc:
            # Render the bare 500 here, with the request id, and do not re-raise.
            log.error("unhandled exception", exc_type=type(exc).__name__, sqlstate=sqlstate(exc))
            report_exception(exc)  # Sentry, scrubbed, tagged with the request id
            if not exchange.responded:
                await problem_response(
                    500,
                    code="internal_error",
                    title="Internal server error",
                    detail="An unexpected error occurred. Quote the request id when reporting it.",
                )(scope, receive, exchange.send_edge)

    async def _checked(
        self,
        scope: Scope,
        receive: Receive,
        exchange: _Exchange,
        head: RequestHead,
        trusted_peer: bool,
    ) -> None:
        refusal: Response | None = None
        if self.https is not None:
            refusal = self.https.refusal(scope, head, trusted_peer)
        if refusal is None and self.hosts is not None:
            refusal = self.hosts.refusal(head)
        if refusal is not None:
            await refusal(scope, receive, exchange.send_edge)
            return
        if self.bodies is None:
            await self._routed(scope, receive, exchange, head)
            return
        limit = self.bodies.limit_for(scope["path"])
        refusal = self.bodies.refusal(head, limit)
        if refusal is not None:
            await refusal(scope, receive, exchange.send_edge)
            return
        body = exchange.body = CappedBody(
            scope, receive, exchange.send_edge, limit=limit, timeout=self.bodies.body_timeout
        )
        try:
            await self._routed(scope, body.receive, exchange, head)
        except BodyTooLarge:
            # A route that read the body outside FastAPI's parsing: answer here if still possible.
            if body.started:
                raise
            await too_large()(scope, receive, exchange.send_edge)
        except Exception:
            # The route's reaction to a client that hung up (or went quiet) mid-body, such as
            # starlette's ClientDisconnect: nobody is left to answer, and it is no server error.
            if body.client_gone():
                return
            raise

    async def _routed(
        self, scope: Scope, receive: Receive, exchange: _Exchange, head: RequestHead
    ) -> None:
        if self.cors is not None:
            exchange.cors = self.cors
            request_headers = exchange.request_headers = Headers(raw=scope["headers"])
            if StrictCORS.is_preflight(scope["method"], head.origin, head.preflight_method):
                preflight = self.cors.preflight_response(request_headers)
                await preflight(scope, receive, exchange.send_checked)
                return
        if self.methods is not None:
            method = scope["method"]
            if method == "OPTIONS":
                allowed = self.methods.allowed(scope["path"])
                if allowed:
                    for message in options_answer(allowed):
                        await exchange.send_cors(message)
                    return
            exchange.methods = self.methods
            exchange.path = scope["path"]
            if method == "HEAD" and "GET" in self.methods.allowed(scope["path"]):
                exchange.head = True
                as_get = {**scope, "method": "GET"}
                try:
                    await self.app(as_get, receive, exchange.send_app)
                finally:
                    # The access line (method HEAD) names the GET route that served it.
                    if "route" in as_get:
                        scope["route"] = as_get["route"]
                return
        await self.app(scope, receive, exchange.send_app)


class _Exchange:
    """One request's answer on its way out: the single ``send`` wrapper, and what it saw.

    ``send_app`` is the route's: a 405's full ``Allow``, ``HEAD``'s empty body, the CORS
    headers, then what every answer gets (``outer``). The answers made by the edge itself
    enter further out (``send_cors``, ``send_checked``, ``send_edge``) and so get less.
    """

    __slots__ = (
        "body",
        "cors",
        "finished",
        "fixed",
        "head",
        "id_header",
        "methods",
        "path",
        "request_headers",
        "responded",
        "send",
        "status",
        "streaming",
    )

    def __init__(self, send: Send, fixed: SecurityHeaderSet | None, request_id: str) -> None:
        self.send = send
        self.fixed = fixed
        self.id_header = (b"x-request-id", request_id.encode())
        self.status = 500  # what the access line says when no answer started
        self.responded = False
        self.streaming = False  # an event stream started (the drain's SSE tail)
        self.finished = False
        self.body: CappedBody | None = None
        self.cors: StrictCORS | None = None
        self.request_headers: Headers | None = None
        self.methods: MethodTable | None = None
        self.path = ""
        self.head = False

    def outer(self, message: Message) -> None:
        """What every answer gets: security headers, the request id; and what the drain needs."""
        if message["type"] == _START:
            if self.fixed is not None:
                message["headers"] = with_security_headers(message.get("headers", []), self.fixed)
            message.setdefault("headers", [])
            message["headers"].append(self.id_header)
            self.responded = True
            self.status = int(message["status"])
            self.streaming = is_event_stream(message["headers"])
        elif message["type"] == _BODY and not message.get("more_body", False):
            self.finished = True

    async def send_edge(self, message: Message) -> None:
        """The edge's own refusals (HTTPS, host, 431, 413, 408) and the bare 500."""
        self.outer(message)
        await self.send(message)

    async def send_checked(self, message: Message) -> None:
        """Past the body limits: a CORS preflight answer."""
        body = self.body
        if body is not None:
            if body.answered:
                return  # the 408 went out; whatever the route answers after it is dropped
            if message["type"] == _START:
                body.started = True
        self.outer(message)
        await self.send(message)

    async def send_cors(self, message: Message) -> None:
        """Past CORS: the ``OPTIONS`` answer."""
        if message["type"] == _START and self.cors is not None:
            assert self.request_headers is not None
            await self.cors.response_start(message, self.request_headers)
        await self.send_checked(message)

    async def send_app(self, message: Message) -> None:
        """The route's answer: every transform, in one call."""
        body = self.body
        if body is not None and body.answered:
            return  # the 408 went out; whatever the route answers after it is dropped
        kind = message["type"]
        if kind == _START:
            if message["status"] == 405 and self.methods is not None:
                message = with_full_allow(message, self.methods.allowed(self.path))
            if self.cors is not None:
                assert self.request_headers is not None
                await self.cors.response_start(message, self.request_headers)
            if body is not None:
                body.started = True
        elif kind == _BODY and self.head:
            message = {**message, "body": b""}
        self.outer(message)
        await self.send(message)
