"""The model provider: always the official ``openai`` SDK (``AsyncOpenAI``), any compatible server.

This module turns the SDK's streamed chunks into a few typed events, so the turn runner never
sees SDK types and an SDK upgrade touches one file. Timeouts and bounded retries on transient
errors are the SDK's own (``timeout``, ``max_retries``); the output-token cap is always sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from openai import AsyncOpenAI, AsyncStream

from app.chat.chunk_decoder import CallSlot, StreamMeter, read_chunk
from app.chat.limits import INVALID_OUTPUT, MAX_ARGUMENT_DEPTH, ModelOutputRefused
from app.core.config import Settings
from app.core.json_limits import nesting_depth_exceeds
from app.core.metrics import MODEL_LATENCY

STUB_API_KEY = "stub-key-not-a-secret"
CHAT_COMPLETIONS_PATH = "/chat/completions"  # relative to the client's base URL, as the SDK's own


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ToolCallRequest:
    call_id: str
    name: str
    arguments: str  # raw JSON text from the model: untrusted


@dataclass(frozen=True)
class Completed:
    finish_reason: str | None
    tool_calls: tuple[ToolCallRequest, ...]
    prompt_tokens: int
    completion_tokens: int


ProviderEvent = TextDelta | Completed


def create_client(settings: Settings) -> AsyncOpenAI:
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if api_key is None:
        # Development/test against the local stub only (production requires https base URLs and
        # a real key is checked by the provider itself).
        api_key = STUB_API_KEY
    return AsyncOpenAI(
        api_key=api_key,
        base_url=settings.openai_base_url,
        timeout=settings.chat_request_timeout_seconds,
        max_retries=settings.chat_max_retries,
    )


async def stream_completion(
    client: AsyncOpenAI,
    *,
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    temperature: float,
    max_tokens: int,
    max_tool_calls: int,
    meter: StreamMeter,
) -> AsyncGenerator[ProviderEvent, None]:
    """Stream one completion: text deltas as they come, then one ``Completed``.

    The request goes through the SDK's own client (auth, base URL, timeouts, retries, error
    mapping, SSE framing, ``[DONE]`` and in-stream ``error`` events), but as the body we built
    from validated rows, and its chunks come back as plain JSON values: the SDK's per-call
    parameter transform and per-chunk models cost more CPU than the rest of a turn's Python
    (docs/decisions/0017-chat-wire-without-sdk-models.md). ``chunk_decoder.read_chunk`` checks
    every chunk before use (types, sizes, the number of tool calls, argument nesting, see
    ``app/chat/limits.py``): anything outside raises ``ModelOutputRefused``, never a
    ``TypeError`` or ``RecursionError`` from deep inside.
    """
    started = time.perf_counter()
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if tools:
        body["tools"] = tools
    stream = await client.post(
        CHAT_COMPLETIONS_PATH,
        body=body,
        cast_to=object,  # the SDK hands each event's JSON over as it parsed it
        stream=True,
        stream_cls=AsyncStream[object],
    )
    meter.opened = True
    calls: dict[int, CallSlot] = {}
    finish: str | None = None
    try:
        chunks = stream.__aiter__()
        while True:
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except (RecursionError, MemoryError, UnicodeError, json.JSONDecodeError) as exc:
                # The SDK parses each event's JSON itself: hostile nesting or size lands here.
                raise ModelOutputRefused(INVALID_OUTPUT, type(exc).__name__) from None
            texts, finished = read_chunk(chunk, calls, meter, max_tool_calls)
            for text in texts:
                yield TextDelta(text)
            finish = finished or finish
    finally:
        await stream.close()
        # ``model`` is one of CHAT_MODELS (validated at bot creation): a bounded label.
        MODEL_LATENCY.labels(model=model).observe(time.perf_counter() - started)
    requests = tuple(
        ToolCallRequest(call_id=slot.call_id, name=slot.name, arguments=slot.arguments)
        for _, slot in sorted(calls.items())
    )
    for request in requests:
        if nesting_depth_exceeds(request.arguments, MAX_ARGUMENT_DEPTH):
            raise ModelOutputRefused(INVALID_OUTPUT, "tool arguments nested too deep")
    prompt_tokens, completion_tokens = meter.usage or (0, 0)
    yield Completed(
        finish_reason=finish,
        tool_calls=requests,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )
