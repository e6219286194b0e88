"""Graceful drain of the API: what an open event stream gets when the process stops.

On SIGTERM uvicorn stops accepting connections and waits up to ``SHUTDOWN_GRACE_SECONDS`` for
open responses to finish (``timeout_graceful_shutdown``, set by ``python -m app serve``); a chat
turn that ends in time ends normally. Past the grace period uvicorn cancels the request tasks: the
turn runner's cancellation path then ends the assistant row ``incomplete`` (partial text kept,
code ``client_disconnected``, app/chat/runner.py), and the edge layer (app/core/middleware.py),
outermost, tells a client whose socket is still open with a last SSE ``error`` event instead of
a cut stream.

A response class with shutdown handling of its own must have it off (sse-starlette's automatic
drain ends every stream at the first SIGTERM, cut mid-body): uvicorn's grace period is the one rule.

A cancellation that reaches this layer is the server's: a client that goes away ends Starlette's
streaming response normally, without cancelling the request task.

uvicorn cancels those tasks but does not wait for them, and re-raises SIGTERM once its shutdown
returns (the process then ends by the signal, status 143). So ``Drain`` also holds the
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
from starlette.types import Message, Send

log = structlog.get_logger()

# The code clients already get for a turn the serving process could not finish
# (app/chat/errors.py: ``turn_interrupted``); they retry with a new Idempotency-Key.
SHUTDOWN_CODE: Final = "turn_interrupted"
_EVENT_STREAM = b"text/event-stream"
CLEANUP_SECONDS: Final = 5.0


def shutdown_event() -> bytes:
    data = json.dumps({"code": SHUTDOWN_CODE}, separators=(",", ":"))
    return f"event: error\ndata: {data}\n\n".encode()


class Drain:
    """The requests in flight, and the lifespan's ``shutdown.complete`` held until they end."""

    def __init__(self) -> None:
        self.requests: set[asyncio.Task[object]] = set()

    def lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                pending = [task for task in self.requests if not task.done()]
                if pending:
                    _, late = await asyncio.wait(pending, timeout=CLEANUP_SECONDS)
                    if late:
                        log.error("requests still running at exit", count=len(late))
            await send(message)

        return lifespan_send


def is_event_stream(headers: list[tuple[bytes, bytes]]) -> bool:
    return dict(headers).get(b"content-type", b"").startswith(_EVENT_STREAM)


async def end_cut_stream(send: Send) -> None:
    """The last SSE event of a stream the shutdown cut (the request is being cancelled)."""
    log.warning("event stream ended by shutdown", code=SHUTDOWN_CODE)
    # A closed socket makes this a no-op or an error; neither may mask the cancel.
    with contextlib.suppress(Exception):
        await send({"type": "http.response.body", "body": shutdown_event(), "more_body": False})
