"""The typed chunk decoder refuses exactly what the SDK-model reader refused, and reads the same.

Until ADR 0017 each streamed chunk became the SDK's ``ChatCompletionChunk`` (built with
``construct_type``, unvalidated, as the SDK builds streamed chunks), read attribute by attribute;
an ``AttributeError``, ``TypeError`` or ``ValueError`` meant a malformed chunk. ``REFERENCE``
below is that reader, kept as the specification. Every chunk in ``CHUNKS`` (well-formed ones and
every malformed shape we could think of: missing, ``null``, wrong-typed fields at each level)
goes through both: both refuse it with the same code, or both read the same text, tool-call
fragments, finish reason and usage. The only differences are listed in ``STRICTER``: chunks the
old reader accepted after a coercion and the decoder refuses. End to end through the real SDK
and server: ``test_hostile_model.py`` and ``test_provider_wire.py``.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from openai._models import construct_type  # the SDK's own builder for streamed chunks
from openai.types.chat import ChatCompletionChunk

from app.chat.chunk_decoder import CallSlot, StreamMeter, read_chunk
from app.chat.limits import INVALID_OUTPUT, ModelOutputRefused

Reading = tuple[Any, ...]


def _reference(chunk: Any, calls: dict[int, CallSlot], meter: StreamMeter) -> tuple[list[str], Any]:
    """The reader before ADR 0017 (app/chat/provider.py ``_read_chunk``), over SDK models."""
    usage = chunk.usage
    if usage is not None:
        counts = [usage.prompt_tokens, usage.completion_tokens]
        counts = [min(c, 10_000_000) if type(c) is int and c >= 0 else None for c in counts]
        if None not in counts:
            meter.usage = cast(tuple[int, int], tuple(counts))
    if not isinstance(chunk.choices, list):
        raise TypeError("choices")
    texts, finish = [], None
    for choice in chunk.choices:
        delta = choice.delta
        content = _str(delta.content)
        if content:
            meter.chars += len(content)
            texts.append(content)
        if delta.tool_calls is not None and not isinstance(delta.tool_calls, list):
            raise TypeError("tool_calls")
        for fragment in delta.tool_calls or []:
            index = fragment.index
            if type(index) is not int or index < 0:
                raise TypeError("tool call index")
            slot = calls.setdefault(index, CallSlot())
            slot.call_id = _str(fragment.id) or slot.call_id
            if fragment.function is not None:
                name = _str(fragment.function.name) or ""
                arguments = _str(fragment.function.arguments) or ""
                slot.name, slot.arguments = slot.name + name, slot.arguments + arguments
                meter.chars += len(name) + len(arguments)
        reason = _str(choice.finish_reason)
        finish = reason[:32] if reason else finish
    return texts, finish


def _str(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("expected a string")


def _outcome(read: Any, chunk: Any) -> Reading:
    calls: dict[int, CallSlot] = {}
    meter = StreamMeter()
    try:
        texts, finish = read(chunk, calls, meter)
    except ModelOutputRefused as exc:
        return ("refused", exc.code)
    except (AttributeError, TypeError, ValueError):
        return ("refused", INVALID_OUTPUT)
    return ("read", texts, finish, {i: vars(s) for i, s in calls.items()}, meter.usage, meter.chars)


def _choice(**fields: Any) -> dict[str, Any]:
    return {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", **fields}


def _delta(delta: Any, **choice: Any) -> dict[str, Any]:
    return _choice(choices=[{"index": 0, "delta": delta, **choice}])


def _call(**fragment: Any) -> dict[str, Any]:
    return _delta({"tool_calls": [fragment]})


CHUNKS: dict[str, Any] = {
    "text": _delta({"content": "Hi"}),
    "empty text": _delta({"content": ""}),
    "role only": _delta({"role": "assistant", "content": None}),
    "finish": _delta({}, finish_reason="stop"),
    "long finish": _delta({}, finish_reason="x" * 100),
    "usage only": _choice(choices=[], usage={"prompt_tokens": 7, "completion_tokens": 3}),
    "usage negative": _choice(choices=[], usage={"prompt_tokens": -1, "completion_tokens": 3}),
    "usage a string count": _choice(
        choices=[], usage={"prompt_tokens": "7", "completion_tokens": 3}
    ),
    "usage huge": _choice(choices=[], usage={"prompt_tokens": 10**12, "completion_tokens": 1}),
    "usage null": _choice(choices=[], usage=None),
    "usage empty": _choice(choices=[], usage={}),
    "usage counts null": _choice(choices=[], usage={"prompt_tokens": None, "completion_tokens": 1}),
    "usage a bool count": _choice(
        choices=[], usage={"prompt_tokens": True, "completion_tokens": 1}
    ),
    "usage a string": _choice(choices=[], usage="lots"),
    "tool call": _call(index=0, id="call_1", function={"name": "create_note", "arguments": "{}"}),
    "tool call fragment": _call(index=1, function={"arguments": '{"a"'}),
    "tool call no function": _call(index=0, id="call_1"),
    "tool call null function": _call(index=0, function=None),
    "tool call function a list": _call(index=0, function=["x"]),
    "tool call id a number": _call(index=0, id=5),
    "tool call name a number": _call(index=0, function={"name": 12345}),
    "tool call arguments an object": _call(index=0, function={"arguments": {"a": 1}}),
    "tool call index missing": _call(function={"name": "x"}),
    "tool call index a list": _call(index=[0]),
    "tool call index a bool": _call(index=True),
    "tool call index a float": _call(index=0.0),
    "tool call index a fraction": _call(index=1.5),
    "tool call index a numeric string": _call(index="0"),
    "tool call index a word": _call(index="x"),
    "tool call index negative": _call(index=-1),
    "tool call a string": _delta({"tool_calls": ["x"]}),
    "tool calls an object": _delta({"tool_calls": {"index": 0}}),
    "tool calls null": _delta({"tool_calls": None}),
    "content a number": _delta({"content": 42}),
    "content a list": _delta({"content": ["Hi"]}),
    "finish a number": _delta({}, finish_reason=1),
    "delta missing": _choice(choices=[{"index": 0}]),
    "delta null": _delta(None),
    "delta a string": _delta("Hi"),
    "choice a number": _choice(choices=[1]),
    "choices missing": _choice(),
    "choices null": _choice(choices=None),
    "choices an object": _choice(choices={"a": 1}),
    "chunk null": None,
    "chunk a list": [1, 2],
    "chunk a string": "data",
    "chunk a number": 5,
}


# Read by the SDK-model reader because pydantic's lax mode coerced the index to an integer;
# refused here, where only a JSON integer is an index (app/chat/chunk_decoder.py). Stricter only.
STRICTER = {
    "tool call index a bool",
    "tool call index a float",
    "tool call index a numeric string",
}


@pytest.mark.parametrize("case", sorted(CHUNKS))
def test_same_outcome_as_the_sdk_model_reader(case: str) -> None:
    raw = json.loads(json.dumps(CHUNKS[case]))  # exactly what json.loads gives the decoder

    def ours(chunk: Any, calls: dict[int, CallSlot], meter: StreamMeter) -> Any:
        return read_chunk(chunk, calls, meter, max_tool_calls=16)

    def reference(chunk: Any, calls: dict[int, CallSlot], meter: StreamMeter) -> Any:
        model = None if chunk is None else construct_type(type_=ChatCompletionChunk, value=chunk)
        return _reference(model, calls, meter)

    expected = _outcome(reference, raw)
    if case in STRICTER:
        assert expected[0] == "read"  # still a coercion of the SDK's, or drop it from STRICTER
        expected = ("refused", INVALID_OUTPUT)
    assert _outcome(ours, raw) == expected
