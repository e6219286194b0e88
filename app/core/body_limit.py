"""Request body caps per route class, enforced while the body is read (413, nothing stored).

A declared ``Content-Length`` over the cap is refused before a byte is read; otherwise (chunked
bodies, lying lengths) ``receive`` is wrapped and counts the chunks, failing as soon as the total
passes the cap, so an oversized body is never buffered whole (``CappedBody``). Classes: uploads
(``/v1/workspaces/*/files``), inbound webhooks (``/v1/webhooks/inbound/*``) and everything else
(JSON).

Request heads are capped too: the served protocol (``app/core/guarded_httptools.py``) cuts a head
off once the bytes it buffered pass 16 KiB, but a head that arrives in one read can pass that
bound, so the exact cap (``MAX_HEADER_BYTES``, names + values) is checked here: 431
problem+json.

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
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from app.core.errors import problem_response
from app.core.request_head import RequestHead

log = structlog.get_logger()

_UPLOADS = re.compile(r"^/v1/workspaces/[^/]+/files(?:/|$)")
_WEBHOOKS = re.compile(r"^/v1/webhooks/inbound(?:/|$)")
MAX_HEADER_BYTES = 16 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTPExceptions from body parsing unchanged."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimits:
    def __init__(
        self,
        *,
        default_bytes: int,
        upload_bytes: int,
        webhook_bytes: int,
        body_timeout: float = 30.0,
    ) -> None:
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

    def refusal(self, head: RequestHead, limit: int) -> Response | None:
        """431 for an oversized head, 413 for a declared length over ``limit``, else None."""
        if head.total_bytes > MAX_HEADER_BYTES:
            return problem_response(
                431,
                code="headers_too_large",
                title="Request header fields too large",
                detail="The request headers exceed the size limit.",
            )
        for value in head.content_lengths:
            try:
                declared = int(value)
            except ValueError:
                declared = -1
            if declared > limit:
                return too_large()
        return None


def too_large() -> Response:
    return problem_response(
        413,
        code="payload_too_large",
        title="Payload too large",
        detail="The request body exceeds the limit for this endpoint.",
    )


class CappedBody:
    """One request's ``receive``, counted against the cap and timed while the body is incomplete.

    ``send`` is where a 408 goes (the edge layer's own answers); the edge layer sets ``started``
    when the route's answer starts, and drops the route's messages once ``answered`` (a 408 went
    out first).
    """

    __slots__ = (
        "_receive",
        "_scope",
        "_send",
        "answered",
        "body_done",
        "hung_up",
        "limit",
        "received",
        "started",
        "timed_out",
        "timeout",
    )

    def __init__(
        self, scope: Scope, receive: Receive, send: Send, *, limit: int, timeout: float
    ) -> None:
        self._scope = scope
        self._receive = receive
        self._send = send
        self.limit = limit
        self.timeout = timeout
        self.received = 0
        self.started = False
        self.body_done = False
        self.timed_out = False
        self.answered = False
        self.hung_up = False

    async def receive(self) -> Message:
        if self.body_done or self.timed_out:
            return await self._receive()
        with anyio.move_on_after(self.timeout):
            message = await self._receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                self.body_done = not message.get("more_body", False)
                if self.received > self.limit:
                    raise BodyTooLarge()
            elif message["type"] == "http.disconnect":
                self.hung_up = True
            return message
        # The client went quiet mid-body: answer 408 now (closing the connection), and let
        # the route unwind the way it does for a client that hung up.
        self.timed_out = True
        if not self.started:
            self.answered = True
            await problem_response(
                408,
                code="request_timeout",
                title="Request timeout",
                detail="The request body stopped arriving; send it again.",
                headers={"Connection": "close"},
            )(self._scope, self._receive, self._send)
        return {"type": "http.disconnect"}

    def client_gone(self) -> bool:
        """The client hung up or went quiet mid-body: the route's error then is no server error."""
        if self.timed_out or self.hung_up:
            log.info("client gone mid-body", timed_out=self.timed_out, path=self._scope["path"])
            return True
        return False
