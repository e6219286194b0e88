"""The model stub's failure switches, asserted as the real ``openai`` SDK reports them (exception
class, status, headers): what the backend's error handling is written against.
"""

from __future__ import annotations

import json
import time

import openai
import pytest
from openai.types.chat import (
    ChatCompletionChunk,
)

from app.model_stub.server import RunningStub
from tests.model_stub.stub_sdk import (
    WEATHER,
    collect,
    content_of,
    sdk,
    user,
)

pytestmark = pytest.mark.anyio


# --- Failure switches, as the SDK reports them ----------------------------------------------


async def test_fail_500(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            await client.chat.completions.create(model="m", messages=user("x [[fail:500]]"))
    assert caught.value.status_code == 500
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "server_error"


async def test_fail_429_has_retry_after(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(
                model="m", messages=user("[[fail:429]]"), stream=True
            )
    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.code == "rate_limit_exceeded"


async def test_fail_timeout_trips_the_client_timeout(stub: RunningStub) -> None:
    started = time.monotonic()
    async with sdk(stub, timeout=0.5) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="m", messages=user("[[fail:timeout]]"))
        # the stub is not stuck: the next request is answered at once
        reply = await client.chat.completions.create(model="m", messages=user("still there?"))
    assert reply.choices[0].message.content == "Echo: still there?"
    assert time.monotonic() - started < 5


async def test_fail_bad_tool_json(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        reply = await client.chat.completions.create(
            model="m", messages=user("[[fail:bad-tool-json]]"), tools=[WEATHER]
        )
    calls = reply.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].type == "function"
    assert calls[0].function.name == "get_weather"
    with pytest.raises(json.JSONDecodeError):
        json.loads(calls[0].function.arguments)


async def test_fail_broken_stream_raises_mid_stream(stub: RunningStub) -> None:
    received: list[ChatCompletionChunk] = []
    async with sdk(stub) as client:
        stream = await client.chat.completions.create(
            model="m", messages=user("one two three four five [[fail:broken-stream]]"), stream=True
        )
        with pytest.raises(openai.APIConnectionError):
            await collect(stream, into=received)
        with pytest.raises(openai.APIConnectionError):
            await client.chat.completions.create(model="m", messages=user("[[fail:broken-stream]]"))
    assert content_of(received) == "Echo: one ", "some deltas arrived before the drop"
    assert all(c.choices[0].finish_reason is None for c in received)


async def test_fail_cut_stream_ends_without_finish_reason(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        chunks = await collect(
            await client.chat.completions.create(
                model="m", messages=user("one two three [[fail:cut-stream]]"), stream=True
            )
        )
    assert content_of(chunks) == "Echo: one "
    assert all(c.choices[0].finish_reason is None for c in chunks)


async def test_fail_slow_streams_chunk_by_chunk(stub: RunningStub) -> None:
    arrivals: list[float] = []
    async with sdk(stub) as client:
        stream = await client.chat.completions.create(
            model="m", messages=user("a b c d [[fail:slow:100]]"), stream=True
        )
        async for chunk in stream:
            arrivals.append(time.monotonic())
            text = chunk.choices[0].delta.content if chunk.choices else None
            assert text is None or "fail" not in text
    # role + 5 word deltas, 100 ms apart: the chunks really arrive over time, not in one body
    assert arrivals[-1] - arrivals[0] >= 0.45
