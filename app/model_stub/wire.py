"""The stub's wire format: OpenAI-shaped completions, SSE chunks and errors, and broken streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from app.model_stub.replies import Plan, argument_fragments

SSE_MEDIA_TYPE = "text/event-stream"
DONE = b"data: [DONE]\n\n"
BROKEN_AFTER = 3  # deltas sent before a broken or cut stream stops


def error_response(
    status_code: int,
    message: str,
    *,
    type_: str,
    code: str | None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``{"error": {"message", "type", "param", "code"}}``, the shape the SDK parses."""
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return JSONResponse(body, status_code=status_code, headers=headers)


def usage(plan: Plan) -> dict[str, int]:
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
    }


def completion(plan: Plan, *, completion_id: str, created: int, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if plan.tool_calls else plan.text,
        "refusal": None,
    }
    if plan.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in plan.tool_calls
        ]
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_stub",
        "choices": [
            {"index": 0, "message": message, "finish_reason": plan.finish_reason, "logprobs": None}
        ],
        "usage": usage(plan),
    }


def deltas(plan: Plan) -> Iterator[dict[str, Any]]:
    """The deltas of one choice, in order, before the finishing one."""
    if not plan.tool_calls:
        yield {"role": "assistant", "content": "", "refusal": None}
        for token in plan.tokens:
            yield {"content": token}
        return
    for index, call in enumerate(plan.tool_calls):
        opening = {
            "index": index,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        role: dict[str, Any] = {"role": "assistant", "content": None} if index == 0 else {}
        yield {**role, "tool_calls": [opening]}
        for fragment in argument_fragments(call.arguments):
            yield {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}


class ChunkWriter:
    """Serialises ``chat.completion.chunk`` events for one completion."""

    def __init__(self, *, completion_id: str, created: int, model: str, with_usage: bool) -> None:
        self.base = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_stub",
        }
        self.with_usage = with_usage

    def event(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}
        chunk: dict[str, Any] = {**self.base, "choices": [choice]}
        if self.with_usage:
            chunk["usage"] = None
        return sse(chunk)

    def usage_event(self, plan: Plan) -> bytes:
        return sse({**self.base, "choices": [], "usage": usage(plan)})


def sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


async def stream_events(plan: Plan, writer: ChunkWriter) -> AsyncIterator[bytes]:
    """A complete stream: deltas, the finishing chunk, the usage chunk if asked, ``[DONE]``."""
    for delta in deltas(plan):
        yield writer.event(delta)
        await asyncio.sleep(plan.delay)
    yield writer.event({}, plan.finish_reason)
    if writer.with_usage:
        yield writer.usage_event(plan)
    yield DONE


async def raw_events(plan: Plan) -> AsyncIterator[bytes]:
    """A scripted hostile stream: each chunk verbatim as one event, then ``[DONE]``."""
    for chunk in plan.raw_chunks:
        yield b"data: " + chunk.encode() + b"\n\n"
        await asyncio.sleep(plan.delay)
    yield DONE


async def cut_stream_events(plan: Plan, writer: ChunkWriter) -> AsyncIterator[bytes]:
    """A stream that ends cleanly after a few deltas: no finish_reason, no usage, no [DONE]."""
    for index, delta in enumerate(deltas(plan)):
        if index >= BROKEN_AFTER:
            return
        yield writer.event(delta)
        await asyncio.sleep(plan.delay)


def broken_stream_parts(plan: Plan, writer: ChunkWriter) -> list[bytes]:
    """A few whole events, then half of the next one (the connection then drops)."""
    parts = [writer.event(delta) for delta in list(deltas(plan))[:BROKEN_AFTER]]
    tail = writer.event({"content": "this chunk is cut off mid-way"})
    return [*parts, tail[: len(tail) // 2]]


class AbortedResponse(Response):
    """Sends headers and some body, then returns without finishing the response.

    The ASGI server then closes the connection mid-body (uvicorn logs "ASGI callable returned
    without completing response"): the client sees an incomplete chunked body, or fewer bytes than
    ``Content-Length`` promised, which is what a dropped upstream connection looks like.
    """

    def __init__(
        self,
        parts: list[bytes],
        *,
        media_type: str,
        delay: float = 0.0,
        content_length: int | None = None,
    ) -> None:
        super().__init__(media_type=media_type)
        self.parts = parts
        self.delay = delay
        if content_length is None:
            del self.headers["content-length"]
        else:
            self.headers["content-length"] = str(content_length)

    async def __call__(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        for part in self.parts:
            await send({"type": "http.response.body", "body": part, "more_body": True})
            await asyncio.sleep(self.delay)
