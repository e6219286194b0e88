"""Request body caps per route class, enforced while the body is read (413, nothing stored).

A declared ``Content-Length`` over the cap is refused before a byte is read; otherwise (chunked
bodies, lying lengths) ``receive`` is wrapped and counts the chunks, failing as soon as the total
passes the cap, so an oversized body is never buffered whole. Classes: uploads
(``/v1/workspaces/*/files``), inbound webhooks (``/v1/webhooks/inbound/*``) and everything else
(JSON).

Request heads are capped too: uvicorn (h11) bounds what it buffers, but a head that arrives in one
read can pass that bound, so the exact cap (``MAX_HEADER_BYTES``, names + values) is checked here:
431 problem+json.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import problem_response

_UPLOADS = re.compile(r"^/v1/workspaces/[^/]+/files(?:/|$)")
_WEBHOOKS = re.compile(r"^/v1/webhooks/inbound(?:/|$)")
MAX_HEADER_BYTES = 16 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTPExceptions from body parsing unchanged."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, default_bytes: int, upload_bytes: int, webhook_bytes: int
    ) -> None:
        self.app = app
        self.default = default_bytes
        self.uploads = upload_bytes
        self.webhooks = webhook_bytes

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

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def send_tracking(message: Message) -> None:
            nonlocal started
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
