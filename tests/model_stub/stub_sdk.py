"""Driving the model stub with the real ``openai`` SDK: the client, the control API, and
reassembling streamed content and tool calls the way a backend has to.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)

from app.model_stub.server import RunningStub

API_KEY = "sk-test-never-echoed"
WEATHER: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
ARGS = {"city": "Paris", "units": "metric", "note": "a long enough value to fragment"}
TOOL_PROMPT = f"weather please [[tool:get_weather {json.dumps(ARGS)}]]"


@asynccontextmanager
async def sdk(stub: RunningStub, **options: Any) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(
        base_url=stub.api_base, api_key=API_KEY, max_retries=0, **options
    ) as client:
        yield client


def user(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "system", "content": "You are terse."}, {"role": "user", "content": text}]


async def control(stub: RunningStub, method: str, path: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient(base_url=stub.url, timeout=5) as http:
        response = await http.request(method, f"/_stub{path}", **kwargs)
    response.raise_for_status()
    return response.json()


async def collect(
    stream: openai.AsyncStream[ChatCompletionChunk], into: list[ChatCompletionChunk] | None = None
) -> list[ChatCompletionChunk]:
    received = [] if into is None else into
    async for chunk in stream:
        received.append(chunk)
    return received


def content_of(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def tool_calls_of(chunks: list[ChatCompletionChunk]) -> dict[int, dict[str, str]]:
    """Reassemble streamed tool calls by index, the way a backend has to."""
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += delta.id or ""
            if delta.function is not None:
                call["name"] += delta.function.name or ""
                call["arguments"] += delta.function.arguments or ""
    return calls
