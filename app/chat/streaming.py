"""Server-Sent Events framing for a turn.

Hand-written because the wire format is three lines per event; a library would add a dependency
for ``event:``/``data:`` framing. Event names: ``delta`` (``{"text"}``), ``tool_call`` (a stored
tool call), ``done`` (the stored turn: message id, status and usage), ``error`` (``{"code"}``,
never an upstream body or trace).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import structlog

from app.chat.errors import TURN_FAILED
from app.chat.runner import Delta, Done, Failed, ToolEvent, TurnEvent
from app.conversations.schemas import TurnResult
from app.core.errors import AppError

log = structlog.get_logger()


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


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
