"""What the stub answers: a deterministic function of the request (plus an optional script item).

Markers are read from the *last user message* only, and only when that message is also the last
message of the request (a trailing ``tool`` result gets a summary instead, so a tool loop ends):

* ``[[tool:NAME {json object}]]`` calls tool NAME with those arguments, if the request offers NAME
  (several markers: several parallel calls; the JSON object is optional and defaults to ``{}``);
* ``[[fail:MODE]]`` with MODE in :class:`FailMode`, and ``[[fail:slow:MS]]`` for a chosen delay;
* ``[[session:ID]]`` (in any message) names the script queue and recording namespace.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from app.model_stub.schemas import (
    MAX_DELAY_MS,
    ChatCompletionRequest,
    FailMode,
    Message,
    NamedToolChoice,
    ScriptItem,
)

ECHO_LIMIT = 200
DEFAULT_SLOW_MS = 200
BAD_TOOL_ARGUMENTS = '{"query": "unterminated'
FALLBACK_TOOL_NAME = "stub_tool"
ARGUMENT_FRAGMENT = 8  # characters of tool-call arguments per streamed delta

_FAIL_RE = re.compile(r"\[\[fail:([a-z0-9-]+)(?::(\d{1,5}))?\]\]")
_SESSION_RE = re.compile(r"\[\[session:([A-Za-z0-9_.-]{1,64})\]\]")
_TOOL_OPEN_RE = re.compile(r"\[\[tool:([A-Za-z0-9_-]{1,64})")
_TOKEN_RE = re.compile(r"\s*\S+\s*|\s+")
_WORD_RE = re.compile(r"\S+")
_JSON = json.JSONDecoder()


@dataclass(frozen=True)
class PlannedToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Plan:
    """The reply, decided before anything is sent."""

    fail: FailMode | None = None
    tokens: tuple[str, ...] = ()  # content deltas (already cut to the token limit)
    tool_calls: tuple[PlannedToolCall, ...] = ()
    finish_reason: str = "stop"
    delay: float = 0.0  # seconds between streamed chunks
    retry_after: int = 1
    prompt_tokens: int = 0
    completion_tokens: int = 0
    raw_chunks: tuple[str, ...] = ()  # sent verbatim instead of a generated stream

    @property
    def text(self) -> str:
        return "".join(self.tokens)


@dataclass(frozen=True)
class Markers:
    fail: FailMode | None = None
    slow_ms: int | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, JSON-encoded arguments)
    spans: tuple[tuple[int, int], ...] = field(default=(), repr=False)


def message_text(message: Message) -> str:
    """The text of a message: its string content, or its text parts joined."""
    if isinstance(message.content, str):
        return message.content
    return "".join(part.text or "" for part in message.content or [] if part.type == "text")


def session_of(messages: list[Message]) -> str:
    """The ``[[session:ID]]`` marker nearest the end of the conversation, or ``""``."""
    for message in reversed(messages):
        match = _SESSION_RE.search(message_text(message))
        if match:
            return match.group(1)
    return ""


def parse_markers(text: str) -> Markers:
    fail: FailMode | None = None
    slow_ms: int | None = None
    spans: list[tuple[int, int]] = []
    for match in _FAIL_RE.finditer(text):
        try:
            mode = FailMode(match.group(1))
        except ValueError:
            continue
        fail = fail or mode
        if mode is FailMode.SLOW and match.group(2) is not None:
            slow_ms = min(int(match.group(2)), MAX_DELAY_MS)
        spans.append(match.span())
    calls: list[tuple[str, str]] = []
    for match in _TOOL_OPEN_RE.finditer(text):
        parsed = _tool_marker(text, match)
        if parsed is not None:
            end, arguments = parsed
            calls.append((match.group(1), arguments))
            spans.append((match.start(), end))
    spans.extend(match.span() for match in _SESSION_RE.finditer(text))
    return Markers(fail=fail, slow_ms=slow_ms, tool_calls=tuple(calls), spans=tuple(spans))


def _tool_marker(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """``[[tool:NAME]]`` or ``[[tool:NAME {...}]]``: (end offset, JSON arguments), else None."""
    position = match.end()
    if text.startswith("]]", position):
        return position + 2, "{}"
    stripped = len(text) - len(text[position:].lstrip())
    if stripped == position:
        return None  # the name runs on into something else
    try:
        value, end = _JSON.raw_decode(text, stripped)
    except ValueError:
        return None
    rest = len(text) - len(text[end:].lstrip())
    if not isinstance(value, dict) or not text.startswith("]]", rest):
        return None
    return rest + 2, json.dumps(value)


def strip_spans(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return " ".join(text.split())


def tokenize(text: str) -> list[str]:
    """Split text into deltas that concatenate back to exactly ``text`` (a word per delta)."""
    return _TOKEN_RE.findall(text)


def count_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


def prompt_tokens(messages: list[Message]) -> int:
    """Words over every message's text, tool-call names and arguments; plus one per message."""
    total = 0
    for message in messages:
        total += 1 + count_words(message_text(message))
        for call in message.tool_calls or []:
            total += count_words(call.function.name) + count_words(call.function.arguments)
    return total


def default_text(messages: list[Message]) -> str:
    last = messages[-1]
    if last.role == "tool":
        return f"Tool result: {message_text(last)[:ECHO_LIMIT]}"
    for message in reversed(messages):
        if message.role == "user":
            text = message_text(message)
            return f"Echo: {strip_spans(text, parse_markers(text).spans)[:ECHO_LIMIT]}"
    return "Hello from the model stub."


def argument_fragments(arguments: str) -> list[str]:
    return [
        arguments[i : i + ARGUMENT_FRAGMENT] for i in range(0, len(arguments), ARGUMENT_FRAGMENT)
    ] or [""]


def plan_reply(body: ChatCompletionRequest, script: ScriptItem | None, call_id: str) -> Plan:
    """Decide the whole reply. ``call_id`` prefixes tool-call ids (``<call_id>_<n>``)."""
    last = body.messages[-1]
    markers = parse_markers(message_text(last)) if last.role == "user" else Markers()
    if script is not None:
        fail, slow_ms = script.fail, script.delay_ms
        calls = [
            (c.id, c.name, c.arguments if isinstance(c.arguments, str) else json.dumps(c.arguments))
            for c in script.tool_calls or []
        ]
        text = script.text
        retry_after = script.retry_after
    else:
        fail, slow_ms, text, retry_after = markers.fail, markers.slow_ms, None, 1
        calls = [(None, name, args) for name, args in _offered_calls(body, markers)]
    if fail is FailMode.BAD_TOOL_JSON:
        name = calls[0][1] if calls else (_forced_or_first_tool(body) or FALLBACK_TOOL_NAME)
        calls = [(None, name, BAD_TOOL_ARGUMENTS)]
    if slow_ms is None and fail is FailMode.SLOW:
        slow_ms = DEFAULT_SLOW_MS
    delay = (slow_ms or 0) / 1000
    prompt = prompt_tokens(body.messages)
    if script is not None and script.raw_chunks is not None:
        return Plan(fail=fail, delay=delay, raw_chunks=tuple(script.raw_chunks))
    if calls:
        planned = tuple(
            PlannedToolCall(id=given or f"{call_id}_{i}", name=name, arguments=arguments)
            for i, (given, name, arguments) in enumerate(calls)
        )
        used = sum(count_words(c.name) + count_words(c.arguments) for c in planned)
        return Plan(
            fail=fail,
            delay=delay,
            retry_after=retry_after,
            tool_calls=planned,
            finish_reason="tool_calls",
            prompt_tokens=prompt,
            completion_tokens=used,
        )
    tokens = tokenize(default_text(body.messages) if text is None else text)
    finish_reason = "stop"
    limit = body.token_limit
    if limit is not None and len(tokens) > limit:
        tokens, finish_reason = tokens[:limit], "length"
    return Plan(
        fail=fail,
        delay=delay,
        retry_after=retry_after,
        tokens=tuple(tokens),
        finish_reason=finish_reason,
        prompt_tokens=prompt,
        completion_tokens=len(tokens),
    )


def _forced_or_first_tool(body: ChatCompletionRequest) -> str | None:
    if isinstance(body.tool_choice, NamedToolChoice):
        return body.tool_choice.function.name
    return body.tool_names[0] if body.tool_names else None


def _offered_calls(body: ChatCompletionRequest, markers: Markers) -> list[tuple[str, str]]:
    """Marker tool calls the request allows; ``tool_choice`` is honoured like a real model."""
    if body.tool_choice == "none":
        return []
    offered = set(body.tool_names)
    calls = [(name, args) for name, args in markers.tool_calls if name in offered]
    if isinstance(body.tool_choice, NamedToolChoice):
        forced = body.tool_choice.function.name
        return [c for c in calls if c[0] == forced] or [(forced, "{}")]
    if body.tool_choice == "required" and not calls:
        return [(body.tool_names[0], "{}")]
    return calls
