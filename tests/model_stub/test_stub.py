"""The model stub, driven by the real ``openai`` SDK over HTTP, as the backend will drive it.

One stub runs in uvicorn on a free loopback port for the module; each test starts from a reset.
Every failure switch is asserted as the SDK surfaces it (exception class, status, headers), since
that is what the backend's error handling will be written against.
"""

from __future__ import annotations

import json

import pytest
from openai.types.chat import (
    ChatCompletionMessageParam,
)

from app.model_stub.server import RunningStub
from tests.model_stub.stub_sdk import (
    ARGS,
    TOOL_PROMPT,
    WEATHER,
    collect,
    content_of,
    sdk,
    tool_calls_of,
    user,
)

pytestmark = pytest.mark.anyio


# --- Replies --------------------------------------------------------------------------------


async def test_plain_reply(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        reply = await client.chat.completions.create(
            model="stub-small", messages=user("hello  world")
        )
        models = [m.id async for m in client.models.list()]
    assert reply.choices[0].message.content == "Echo: hello world"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "stub-small"
    assert reply.id.startswith("chatcmpl-")
    # prompt: 1 + 3 words (system) + 1 + 2 words (user); completion: 3 word deltas
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (7, 3)
    assert reply.usage.total_tokens == 10
    assert models == ["stub-small", "stub-large"]


async def test_streamed_reply_equals_the_plain_one(stub: RunningStub) -> None:
    prompt = user("the quick brown fox jumps over the lazy dog")
    async with sdk(stub) as client:
        plain = await client.chat.completions.create(model="stub-large", messages=prompt)
        chunks = await collect(
            await client.chat.completions.create(
                model="stub-large",
                messages=prompt,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        without_usage = await collect(
            await client.chat.completions.create(model="stub-large", messages=prompt, stream=True)
        )
    assert content_of(chunks) == plain.choices[0].message.content
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 5
    assert len({c.id for c in chunks}) == 1
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    finishing = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishing[-1] == "stop"
    assert set(finishing[:-1]) == {None}
    assert not chunks[-1].choices
    assert chunks[-1].usage == plain.usage
    assert all(c.usage is None for c in without_usage)
    assert content_of(without_usage) == content_of(chunks)


async def test_max_tokens_truncates_with_length(stub: RunningStub) -> None:
    prompt = user("one two three four")
    async with sdk(stub) as client:
        plain = await client.chat.completions.create(model="m", messages=prompt, max_tokens=3)
        chunks = await collect(
            await client.chat.completions.create(
                model="m", messages=prompt, max_completion_tokens=3, stream=True
            )
        )
    assert plain.choices[0].message.content == "Echo: one two "
    assert plain.choices[0].finish_reason == "length"
    assert plain.usage is not None
    assert plain.usage.completion_tokens == 3
    assert content_of(chunks) == "Echo: one two "
    assert chunks[-1].choices[0].finish_reason == "length"


# --- Tool calls -----------------------------------------------------------------------------


async def test_tool_call(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        reply = await client.chat.completions.create(
            model="m", messages=user(TOOL_PROMPT), tools=[WEATHER]
        )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    assert len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.id
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == ARGS


async def test_streamed_tool_call_reassembles(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        chunks = await collect(
            await client.chat.completions.create(
                model="m", messages=user(TOOL_PROMPT), tools=[WEATHER], stream=True
            )
        )
        async with client.chat.completions.stream(
            model="m", messages=user(TOOL_PROMPT), tools=[WEATHER]
        ) as helper:
            final = await helper.get_final_completion()
    calls = tool_calls_of(chunks)
    assert list(calls) == [0]
    assert calls[0]["name"] == "get_weather"
    assert calls[0]["id"]
    assert json.loads(calls[0]["arguments"]) == ARGS
    fragments = [c for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert len(fragments) > 3, "arguments arrive over several chunks"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    helper_calls = final.choices[0].message.tool_calls
    assert helper_calls is not None
    assert helper_calls[0].type == "function"
    assert json.loads(helper_calls[0].function.arguments) == ARGS
    assert final.choices[0].finish_reason == "tool_calls"


async def test_marker_for_a_tool_not_offered_is_only_text(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        offered_other = await client.chat.completions.create(
            model="m", messages=user("hi [[tool:delete_everything {}]]"), tools=[WEATHER]
        )
        choice_none = await client.chat.completions.create(
            model="m", messages=user(TOOL_PROMPT), tools=[WEATHER], tool_choice="none"
        )
    for reply in (offered_other, choice_none):
        assert reply.choices[0].message.tool_calls is None
        assert reply.choices[0].finish_reason == "stop"
    assert offered_other.choices[0].message.content == "Echo: hi"


async def test_tool_result_follow_up(stub: RunningStub) -> None:
    result = json.dumps({"temperature_c": 21, "sky": "clear"})
    async with sdk(stub) as client:
        first = await client.chat.completions.create(
            model="m", messages=user(TOOL_PROMPT), tools=[WEATHER]
        )
        call = first.choices[0].message.tool_calls
        assert call is not None
        assert call[0].type == "function"
        messages: list[ChatCompletionMessageParam] = [
            *user(TOOL_PROMPT),
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": call[0].id,
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": call[0].function.arguments,
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call[0].id, "content": result},
        ]
        follow_up = await client.chat.completions.create(
            model="m", messages=messages, tools=[WEATHER]
        )
    assert follow_up.choices[0].message.content == f"Tool result: {result}"
    assert follow_up.choices[0].finish_reason == "stop"
