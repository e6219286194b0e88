"""Server-Sent Events for a turn, sent through sse-starlette's ``EventSourceResponse``.

The library keeps the connection alive: a ``: keep-alive`` comment every ``SSE_PING_SECONDS``
while the model is silent, so a slow turn never reaches a proxy's idle read timeout (Cloudflare
answers 524 after 100 s without a byte). It stops the stream when the client disconnects (the
runner keeps what was said, marked ``incomplete``). Its automatic drain on server shutdown is
turned off: a turn is finite, so on SIGTERM open turns finish and end with ``done`` as they did
with a plain ``StreamingResponse`` (the server's graceful-shutdown timeout bounds the wait),
instead of being cut mid-answer with a truncated response.
``fastapi.sse`` would need the route itself to be a generator (this one answers JSON too) and
pings on a fixed 15 s it does not let us set (docs/decisions/0016-sse-keep-alive.md).

Event payloads are framed here, byte for byte as before: ``delta`` (``{"text"}``), ``tool_call``
(a stored tool call), ``done`` (the stored turn: message id, status and usage), ``error``
(``{"code"}``, never an upstream body or trace).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog
from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import AppStatus

from app.chat.errors import TURN_FAILED
from app.chat.runner import Delta, Done, Failed, ToolEvent, TurnEvent
from app.conversations.schemas import TurnResult
from app.core.errors import AppError

log = structlog.get_logger()
AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]  # untyped upstream
# no-store: a turn is private; X-Accel-Buffering: nginx-style proxies must not hold the stream.
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _keep_alive() -> ServerSentEvent:
    # A comment line: every EventSource client ignores it (no timestamp: nothing to learn).
    return ServerSentEvent(comment="keep-alive", sep="\n")


def event_stream(content: AsyncIterator[bytes], *, ping_seconds: float) -> EventSourceResponse:
    """The response for an SSE turn: pre-framed events, keep-alive comments in between."""
    return EventSourceResponse(
        content,
        headers=SSE_HEADERS,
        ping=ping_seconds,
        sep="\n",
        ping_message_factory=_keep_alive,
    )


def _event(name: str, data: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": data,
            },
        },
    }


# The events of a streamed turn, as FastAPI documents SSE (``itemSchema``, OpenAPI 3.2 style):
# any number of ``delta`` and ``tool_call``, then exactly one ``done`` or ``error``. Between
# events the server sends ``: keep-alive`` comments (docs/decisions/0016).
SSE_CONTENT: dict[str, Any] = {
    "itemSchema": {
        "oneOf": [
            _event(
                "delta",
                {
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string"}},
                },
                "A piece of the answer's text.",
            ),
            _event(
                "tool_call",
                {"$ref": "#/components/schemas/ToolCallRead"},
                "A tool the bot called, with its validated arguments and outcome.",
            ),
            _event(
                "done",
                {"$ref": "#/components/schemas/TurnResult"},
                "The turn ended: the stored messages and token usage.",
            ),
            _event(
                "error",
                {
                    "type": "object",
                    "required": ["code"],
                    "properties": {"code": {"type": "string"}},
                },
                "The turn ended without an answer; `code` says why (stored on the message).",
            ),
        ]
    }
}


async def sse_stream(events: AsyncIterator[TurnEvent]) -> AsyncIterator[bytes]:
    try:
        async for event in events:
            if isinstance(event, Delta):
                yield sse("delta", {"text": event.text})
            elif isinstance(event, ToolEvent):
                yield sse("tool_call", event.call.model_dump(mode="json"))
            elif isinstance(event, Done):
                yield sse("done", event.result.model_dump(mode="json"))
            elif isinstance(event, Failed):
                yield sse("error", {"code": event.code})
    except Exception:  # the runner ends every turn itself; this only keeps the stream's shape
        log.error("turn stream failed")
        yield sse("error", {"code": TURN_FAILED})


async def sse_replay(result: TurnResult, failure: AppError | None = None) -> AsyncIterator[bytes]:
    """A repeated Idempotency-Key: the recorded ending again (``done``, or the ``error``)."""
    if failure is not None:
        yield sse("error", {"code": failure.code})
    else:
        yield sse("done", result.model_dump(mode="json"))
