"""Request body caps per route class, enforced while the body is read (413, nothing stored).

A declared ``Content-Length`` over the cap is refused before a byte is read; otherwise (chunked
bodies, lying lengths) ``receive`` is wrapped and counts the chunks, failing as soon as the total
passes the cap, so an oversized body is never buffered whole. Classes: uploads
(``/v1/workspaces/*/files``), inbound webhooks (``/v1/webhooks/inbound/*``) and everything else
(JSON).

Request heads are capped too: uvicorn (h11) bounds what it buffers, but a head that arrives in one
read can pass that bound, so the exact cap (``MAX_HEADER_BYTES``, names + values) is checked here:
431 problem+json.

Bodies have a read timeout: uvicorn waits for body bytes forever, so a client that stops sending
mid-body would hold its request (and whatever the route holds) indefinitely. Each ``receive``
for body bytes gets ``body_timeout`` seconds; past that the client gets 408 problem+json and the
route sees a disconnect (its ordinary cleanup path). Only while the body is incomplete: once the
last body chunk has arrived, ``receive`` only reports the disconnect (streamed answers wait on it
for minutes) and is not timed.
"""

from __future__ import annotations

import re

import anyio
import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response

log = structlog.get_logger()

_UPLOADS = re.compile(r"^/v1/workspaces/[^/]+/files(?:/|$)")
_WEBHOOKS = re.compile(r"^/v1/webhooks/inbound(?:/|$)")
MAX_HEADER_BYTES = 16 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTPExceptions from body parsing unchanged."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        default_bytes: int,
        upload_bytes: int,
        webhook_bytes: int,
        body_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.default = default_bytes
        self.uploads = upload_bytes
        self.webhooks = webhook_bytes
        self.body_timeout = body_timeout

    def limit_for(self, path: str) -> int:
        if _UPLOADS.match(path):
            return self.uploads
        if _WEBHOOKS.match(path):
            return self.webhooks
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if sum(len(k) + len(v) for k, v in scope["headers"]) > MAX_HEADER_BYTES:
            await problem_response(
                431,
                code="headers_too_large",
                title="Request header fields too large",
                detail="The request headers exceed the size limit.",
            )(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for key, value in scope["headers"]:
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await problem_response(
                        413,
                        code="payload_too_large",
                        title="Payload too large",
                        detail="The request body exceeds the limit for this endpoint.",
                    )(scope, receive, send)
                    return

        received = 0
        started = False
        body_done = False
        timed_out = False
        answered = False
        hung_up = False

        async def limited_receive() -> Message:
            nonlocal received, body_done, timed_out, answered, hung_up
            if body_done or timed_out:
                return await receive()
            with anyio.move_on_after(self.body_timeout):
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    body_done = not message.get("more_body", False)
                    if received > limit:
                        raise BodyTooLarge()
                elif message["type"] == "http.disconnect":
                    hung_up = True
                return message
            # The client went quiet mid-body: answer 408 now (closing the connection), and let
            # the route unwind the way it does for a client that hung up.
            timed_out = True
            if not started:
                answered = True
                await problem_response(
                    408,
                    code="request_timeout",
                    title="Request timeout",
                    detail="The request body stopped arriving; send it again.",
                    headers={"Connection": "close"},
                )(scope, receive, send)
            return {"type": "http.disconnect"}

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 408 went out; whatever the route answers after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, send_tracking)
        except BodyTooLarge:
            # A route that read the body outside FastAPI's parsing: answer here if still possible.
            if started:
                raise
            await problem_response(
                413,
                code="payload_too_large",
                title="Payload too large",
                detail="The request body exceeds the limit for this endpoint.",
            )(scope, receive, send)
        except Exception:
            # The route's reaction to a client that hung up (or went quiet) mid-body, such as
            # starlette's ClientDisconnect: nobody is left to answer, and it is no server error.
            if timed_out or hung_up:
                log.info("client gone mid-body", timed_out=timed_out, path=scope["path"])
                return
            raise
