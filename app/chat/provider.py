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
from typing import Any, cast

from openai import AsyncOpenAI, omit

from app.chat.limits import (
    INVALID_OUTPUT,
    MAX_ARGUMENT_DEPTH,
    MAX_CALL_ID_CHARS,
    MAX_TOOL_ARGUMENT_CHARS,
    MAX_TOOL_NAME_CHARS,
    TOO_MANY_TOOL_CALLS,
    ModelOutputRefused,
)
from app.core.config import Settings
from app.core.json_limits import nesting_depth_exceeds
from app.core.metrics import MODEL_LATENCY

STUB_API_KEY = "stub-key-not-a-secret"


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


@dataclass
class StreamMeter:
    """What one completion has streamed so far: read by the runner however the stream ends, so
    a turn that fails or is left mid-way is still charged (``app/chat/accounting.py``)."""

    opened: bool = False  # the provider accepted the request (from here on it bills)
    chars: int = 0  # answer text plus tool names and arguments, as received
    usage: tuple[int, int] | None = None  # (prompt, completion) when the provider reported it


@dataclass
class _CallSlot:
    call_id: str = ""
    name: str = ""
    arguments: str = ""


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

    Every chunk is checked before use (types, sizes, the number of tool calls, argument nesting,
    see ``app/chat/limits.py``): anything outside raises ``ModelOutputRefused``, never a
    ``TypeError`` or ``RecursionError`` from deep inside.
    """
    started = time.perf_counter()
    stream = await client.chat.completions.create(
        model=model,
        messages=cast(Any, messages),
        tools=cast(Any, tools) if tools else omit,
        temperature=temperature,
        max_tokens=max_tokens,
        stream=True,
        stream_options={"include_usage": True},
    )
    meter.opened = True
    calls: dict[int, _CallSlot] = {}
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
            try:
                texts, finished = _read_chunk(chunk, calls, meter, max_tool_calls)
            except (AttributeError, TypeError, ValueError) as exc:
                # A field of the wrong shape (the SDK does not validate streamed chunks).
                raise ModelOutputRefused(INVALID_OUTPUT, type(exc).__name__) from None
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


def _read_chunk(
    chunk: Any, calls: dict[int, _CallSlot], meter: StreamMeter, max_tool_calls: int
) -> tuple[list[str], str | None]:
    """One chunk's text deltas and finish reason; tool-call fragments go into ``calls``."""
    usage = chunk.usage
    if usage is not None:
        counts = (_count(usage.prompt_tokens), _count(usage.completion_tokens))
        if None not in counts:  # nonsense counts: the runner estimates instead
            meter.usage = cast(tuple[int, int], counts)
    choices = chunk.choices
    if not isinstance(choices, list):
        raise TypeError("choices")
    texts: list[str] = []
    finish: str | None = None
    for choice in choices:
        delta = choice.delta
        content = _optional_str(delta.content)
        if content:
            meter.chars += len(content)
            texts.append(content)
        fragments = delta.tool_calls
        if fragments is not None and not isinstance(fragments, list):
            raise TypeError("tool_calls")
        for fragment in fragments or []:
            _add_fragment(fragment, calls, meter, max_tool_calls)
        reason = _optional_str(choice.finish_reason)
        if reason:
            finish = reason[:32]
    return texts, finish


def _add_fragment(
    fragment: Any, calls: dict[int, _CallSlot], meter: StreamMeter, max_tool_calls: int
) -> None:
    index = fragment.index
    if type(index) is not int or index < 0:
        raise TypeError("tool call index")
    if index not in calls and len(calls) >= max_tool_calls:
        raise ModelOutputRefused(TOO_MANY_TOOL_CALLS, f"more than {max_tool_calls} tool calls")
    slot = calls.setdefault(index, _CallSlot())
    call_id = _optional_str(fragment.id)
    if call_id:
        slot.call_id = call_id
    function = fragment.function
    if function is not None:
        name = _optional_str(function.name) or ""
        arguments = _optional_str(function.arguments) or ""
        slot.name += name
        slot.arguments += arguments
        meter.chars += len(name) + len(arguments)
    if len(slot.call_id) > MAX_CALL_ID_CHARS or len(slot.name) > MAX_TOOL_NAME_CHARS:
        raise ModelOutputRefused(INVALID_OUTPUT, "tool call id or name too long")
    if len(slot.arguments) > MAX_TOOL_ARGUMENT_CHARS:
        raise ModelOutputRefused(INVALID_OUTPUT, "tool arguments too long")


def _optional_str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("expected a string")


def _count(value: object) -> int | None:
    if type(value) is not int or value < 0:
        return None
    return min(value, 10_000_000)
