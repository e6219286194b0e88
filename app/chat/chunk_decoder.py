"""Reading one streamed chat-completion chunk, as parsed JSON, into text, tool-call fragments,
a finish reason and usage: the small typed decoder that replaced the SDK's per-chunk models.

Everything a model streams is untrusted input. A chunk is accepted exactly when the SDK's
``ChatCompletionChunk`` (built without validation, as the SDK builds streamed chunks) gave the
old reader what it needed: an object with a ``choices`` list; each choice an object with a
``delta`` object; texts, ids, names and arguments strings or ``null``; ``tool_calls`` a list or
``null``, each an object whose ``index`` is a non-negative integer; ``usage`` an object or
``null`` (missing or nonsense counts are ignored: the runner estimates). Anything else raises
``ModelOutputRefused(INVALID_OUTPUT)``. One deliberate difference, stricter: the SDK's models
coerced a tool call's ``index`` given as ``true``/``false``, an integral float or a numeric
string to an integer (pydantic's lax mode); here only a JSON integer is an index. The limits of
``app/chat/limits.py`` (sizes, the number of tool calls) apply as each fragment arrives.
Hand-written because no library decodes this stream without building a model per chunk, which
is the cost this module exists to remove (docs/decisions/0017-chat-wire-without-sdk-models.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.chat.limits import (
    INVALID_OUTPUT,
    MAX_CALL_ID_CHARS,
    MAX_TOOL_ARGUMENT_CHARS,
    MAX_TOOL_NAME_CHARS,
    TOO_MANY_TOOL_CALLS,
    ModelOutputRefused,
)

MAX_COUNT = 10_000_000  # a reported token count above this is taken as this


@dataclass
class StreamMeter:
    """What one completion has streamed so far: read by the runner however the stream ends, so
    a turn that fails or is left mid-way is still charged (``app/chat/accounting.py``)."""

    opened: bool = False  # the provider accepted the request (from here on it bills)
    chars: int = 0  # answer text plus tool names and arguments, as received
    usage: tuple[int, int] | None = None  # (prompt, completion) when the provider reported it


@dataclass
class CallSlot:
    call_id: str = ""
    name: str = ""
    arguments: str = ""


class _Malformed(Exception):
    """A field of the wrong shape; reported as ``INVALID_OUTPUT`` with this reason."""


def read_chunk(
    chunk: object, calls: dict[int, CallSlot], meter: StreamMeter, max_tool_calls: int
) -> tuple[list[str], str | None]:
    """One chunk's text deltas and finish reason; tool-call fragments go into ``calls``."""
    try:
        return _read(chunk, calls, meter, max_tool_calls)
    except _Malformed as exc:
        raise ModelOutputRefused(INVALID_OUTPUT, str(exc)) from None


def _read(
    chunk: object, calls: dict[int, CallSlot], meter: StreamMeter, max_tool_calls: int
) -> tuple[list[str], str | None]:
    body = _object(chunk, "chunk")
    usage = body.get("usage")
    if usage is not None:
        fields = _object(usage, "usage")
        counts = (_count(fields.get("prompt_tokens")), _count(fields.get("completion_tokens")))
        if None not in counts:  # nonsense counts: the runner estimates instead
            meter.usage = (counts[0] or 0, counts[1] or 0)
    choices = _required(body, "choices")
    if type(choices) is not list:
        raise _Malformed("choices")
    texts: list[str] = []
    finish: str | None = None
    for choice in choices:
        fields = _object(choice, "choice")
        delta = _object(_required(fields, "delta"), "delta")
        content = _optional_str(delta.get("content"))
        if content:
            meter.chars += len(content)
            texts.append(content)
        fragments = delta.get("tool_calls")
        if fragments is not None and type(fragments) is not list:
            raise _Malformed("tool_calls")
        for fragment in fragments or ():
            _add_fragment(fragment, calls, meter, max_tool_calls)
        reason = _optional_str(fields.get("finish_reason"))
        if reason:
            finish = reason[:32]
    return texts, finish


def _add_fragment(
    fragment: object, calls: dict[int, CallSlot], meter: StreamMeter, max_tool_calls: int
) -> None:
    fields = _object(fragment, "tool call")
    index = _required(fields, "index")
    if type(index) is not int or index < 0:
        raise _Malformed("tool call index")
    if index not in calls and len(calls) >= max_tool_calls:
        raise ModelOutputRefused(TOO_MANY_TOOL_CALLS, f"more than {max_tool_calls} tool calls")
    slot = calls.setdefault(index, CallSlot())
    call_id = _optional_str(fields.get("id"))
    if call_id:
        slot.call_id = call_id
    function = fields.get("function")
    if function is not None:
        parts = _object(function, "function")
        name = _optional_str(parts.get("name")) or ""
        arguments = _optional_str(parts.get("arguments")) or ""
        slot.name += name
        slot.arguments += arguments
        meter.chars += len(name) + len(arguments)
    if len(slot.call_id) > MAX_CALL_ID_CHARS or len(slot.name) > MAX_TOOL_NAME_CHARS:
        raise ModelOutputRefused(INVALID_OUTPUT, "tool call id or name too long")
    if len(slot.arguments) > MAX_TOOL_ARGUMENT_CHARS:
        raise ModelOutputRefused(INVALID_OUTPUT, "tool arguments too long")


def _object(value: object, what: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Malformed(f"{what} is not an object")
    return value


def _required(fields: dict[str, Any], key: str) -> object:
    if key not in fields:
        raise _Malformed(f"{key} missing")
    return fields[key]


def _optional_str(value: object) -> str | None:
    if value is None or type(value) is str:
        return value
    raise _Malformed("expected a string")


def _count(value: object) -> int | None:
    if type(value) is not int or value < 0:
        return None
    return min(value, MAX_COUNT)
