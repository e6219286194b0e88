"""Graceful drain of the API: what an open event stream gets when the process stops.

On SIGTERM uvicorn stops accepting connections and waits up to ``SHUTDOWN_GRACE_SECONDS`` for
open responses to finish (``timeout_graceful_shutdown``, set by ``python -m app serve``); a chat
turn that ends in time ends normally. Past the grace period uvicorn cancels the request tasks: the
turn runner's cancellation path then ends the assistant row ``incomplete`` (partial text kept,
code ``client_disconnected``, app/chat/runner.py), and this middleware, outermost, tells a client
whose socket is still open with a last SSE ``error`` event instead of a cut stream.

A response class with shutdown handling of its own must have it off (sse-starlette's automatic
drain ends every stream at the first SIGTERM, cut mid-body): uvicorn's grace period is the one rule.

A cancellation that reaches this layer is the server's: a client that goes away ends Starlette's
streaming response normally, without cancelling the request task.

uvicorn cancels those tasks but does not wait for them, and re-raises SIGTERM once its shutdown
returns (the process then ends by the signal, status 143). So the middleware also holds the
lifespan's ``shutdown.complete`` until the cancelled requests have run their cleanup (the turn's
final write, the error event), for at most ``CLEANUP_SECONDS``: without it the process could die
with a turn still ``streaming`` (left to the worker's sweeper).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Final

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger()

# The code clients already get for a turn the serving process could not finish
# (app/chat/errors.py: ``turn_interrupted``); they retry with a new Idempotency-Key.
SHUTDOWN_CODE: Final = "turn_interrupted"
_EVENT_STREAM = b"text/event-stream"
CLEANUP_SECONDS: Final = 5.0


def shutdown_event() -> bytes:
    data = json.dumps({"code": SHUTDOWN_CODE}, separators=(",", ":"))
    return f"event: error\ndata: {data}\n\n".encode()


class DrainMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests: set[asyncio.Task[object]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        if task is None:  # not under asyncio: nothing to track
            await self.app(scope, receive, send)
            return
        self.requests.add(task)
        try:
            await self._http(scope, receive, send)
        finally:
            self.requests.discard(task)

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                pending = [task for task in self.requests if not task.done()]
                if pending:
                    _, late = await asyncio.wait(pending, timeout=CLEANUP_SECONDS)
                    if late:
                        log.error("requests still running at exit", count=len(late))
            await send(message)

        return lifespan_send

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = False
        finished = False

        async def tracking_send(message: Message) -> None:
            nonlocal streaming, finished
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                streaming = content_type.startswith(_EVENT_STREAM)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if streaming and not finished:
                log.warning("event stream ended by shutdown", code=SHUTDOWN_CODE)
                # A closed socket makes this a no-op or an error; neither may mask the cancel.
                with contextlib.suppress(Exception):
                    await send(
                        {"type": "http.response.body", "body": shutdown_event(), "more_body": False}
                    )
            raise
