"""The model provider: always the official ``openai`` SDK (``AsyncOpenAI``), any compatible server.

This module turns the SDK's streamed chunks into a few typed events, so the turn runner never
sees SDK types and an SDK upgrade touches one file. Timeouts and bounded retries on transient
errors are the SDK's own (``timeout``, ``max_retries``); the output-token cap is always sent.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, cast

from openai import AsyncOpenAI, omit

from app.core.config import Settings
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


async def stream_completion(
    client: AsyncOpenAI,
    *,
    model: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    temperature: float,
    max_tokens: int,
) -> AsyncGenerator[ProviderEvent, None]:
    """Stream one completion: text deltas as they come, then one ``Completed``."""
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
    calls: dict[int, dict[str, str]] = {}
    finish: str | None = None
    prompt_tokens = completion_tokens = 0
    try:
        async for chunk in stream:
            if chunk.usage is not None:
                prompt_tokens = chunk.usage.prompt_tokens
                completion_tokens = chunk.usage.completion_tokens
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    yield TextDelta(delta.content)
                for call in delta.tool_calls or []:
                    slot = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                    if call.id:
                        slot["id"] = call.id
                    if call.function is not None:
                        slot["name"] += call.function.name or ""
                        slot["arguments"] += call.function.arguments or ""
                if choice.finish_reason:
                    finish = choice.finish_reason
    finally:
        await stream.close()
        # ``model`` is one of CHAT_MODELS (validated at bot creation): a bounded label.
        MODEL_LATENCY.labels(model=model).observe(time.perf_counter() - started)
    yield Completed(
        finish_reason=finish,
        tool_calls=tuple(
            ToolCallRequest(call_id=slot["id"], name=slot["name"], arguments=slot["arguments"])
            for _, slot in sorted(calls.items())
        ),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )
