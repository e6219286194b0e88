"""The provider's own wire path says to the model what the SDK's typed call says, and reads back
what the SDK's chunk models read (docs/decisions/0017-chat-wire-without-sdk-models.md).

``stream_completion`` sends the body it builds through the SDK's client and decodes the chunks
with ``app/chat/chunk_decoder.py``. Here the same completion goes both ways against the real
model stub over HTTP: once through ``stream_completion``, once through
``client.chat.completions.create`` (the SDK's parameter transform and ``ChatCompletionChunk``
models). The stub's recorded request bodies must be equal, and so must the text, the tool calls,
the finish reason and the usage each side read. Malformed chunks are covered end to end by
``test_hostile_model.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from openai import AsyncOpenAI

from app.bots.tool_names import ToolName
from app.chat.chunk_decoder import StreamMeter
from app.chat.provider import STUB_API_KEY, Completed, TextDelta, stream_completion
from app.tools.registry import REGISTRY
from tests.chat.helpers import marker, new_session, recorded, script
from tests.support import Stub

pytestmark = pytest.mark.anyio

REPLIES: dict[str, list[dict[str, Any]]] = {
    "text": [{"text": "The weather is mild, with a light breeze and some sun."}],
    "tool calls": [
        {
            "tool_calls": [
                {"name": "create_note", "arguments": {"title": "Groceries", "body": "eggs"}},
                {"name": "create_note", "arguments": {"title": "Calls", "body": "the bank"}},
            ]
        }
    ],
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


Reading = tuple[str, list[tuple[str, str]], str | None, tuple[int, int] | None]


def _request(session: str) -> dict[str, Any]:
    return {
        "model": "stub-small",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Earlier question"},
            {"role": "assistant", "content": "Earlier answer"},
            {"role": "user", "content": f"What now? {marker(session)}"},
        ],
        "tools": [REGISTRY[ToolName.CREATE_NOTE].openai_schema()],
        "temperature": 0.3,
        "max_tokens": 256,
    }


async def _ours(client: AsyncOpenAI, request: dict[str, Any]) -> Reading:
    meter, text, completed = StreamMeter(), [], None
    async for event in stream_completion(client, **request, max_tool_calls=16, meter=meter):
        if isinstance(event, TextDelta):
            text.append(event.text)
        else:
            completed = event
    assert isinstance(completed, Completed)
    calls = [(c.name, c.arguments) for c in completed.tool_calls]
    return "".join(text), calls, completed.finish_reason, meter.usage


async def _sdk(client: AsyncOpenAI, request: dict[str, Any]) -> Reading:
    stream = await client.chat.completions.create(
        **request, stream=True, stream_options={"include_usage": True}
    )
    text: list[str] = []
    calls: dict[int, list[str]] = {}
    finish, usage = None, None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            for fragment in choice.delta.tool_calls or []:
                slot = calls.setdefault(fragment.index, ["", ""])
                if fragment.function is not None:
                    slot[0] += fragment.function.name or ""
                    slot[1] += fragment.function.arguments or ""
            finish = choice.finish_reason or finish
    return "".join(text), [(n, a) for _, (n, a) in sorted(calls.items())], finish, usage


@pytest.mark.parametrize("reply", sorted(REPLIES))
async def test_same_request_and_same_reading_as_the_sdk(stub: Stub, reply: str) -> None:
    client = AsyncOpenAI(api_key=STUB_API_KEY, base_url=stub.base_url, max_retries=0)
    ours, theirs = new_session(), new_session()
    for session in (ours, theirs):
        script(stub, session, REPLIES[reply])

    read_ours = await _ours(client, _request(ours))
    read_sdk = await _sdk(client, _request(theirs))

    assert read_ours == read_sdk
    assert read_ours[0] or read_ours[1]  # the reply was read, not two empty readings
    sent_ours, sent_sdk = recorded(stub, ours), recorded(stub, theirs)
    assert len(sent_ours) == len(sent_sdk) == 1
    assert sent_ours[0] == _request(ours) | {
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert sent_ours[0] == {**sent_sdk[0], "messages": _request(ours)["messages"]}
    await client.close()
