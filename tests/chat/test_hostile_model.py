"""A hostile model server: whatever it streams, the turn ends, with a code, once.

The stub sends what each test scripts (``raw_chunks`` are sent verbatim as SSE events, so the
wrong types and nesting reach the real ``openai`` SDK in the server exactly as a hostile or broken
provider would send them). Each case asserts the four promises of an ending: the event stream
closes with an ``error`` event carrying the code, JSON mode answers a 502 problem with it, the row
ends ``failed`` with it (nothing stays ``streaming``, no lease is left), and the same
Idempotency-Key answers the recorded outcome without a second model call.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.chat.conftest import Studio
from tests.chat.helpers import (
    hang_up_after,
    marker,
    messages_url,
    new_session,
    parse_sse,
    recorded,
    script,
    wait_for,
)
from tests.factories.bots import create_bot
from tests.factories.conversations import send, start_conversation
from tests.support import Actor, Database, Stub

DEEP = 1200  # json.loads recurses per level: deeper than the interpreter's recursion limit
MAX_TOOL_CALLS = 16  # CHAT_MAX_TOOL_CALLS_PER_ROUND's default; the test server runs with it
MAX_ANSWER_CHARS = 100_000  # CHAT_MAX_ANSWER_CHARS' default
MAX_TOOL_ROUNDS = 3  # CHAT_MAX_TOOL_ROUNDS' default


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-hostile",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub-small",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}],
    }
    return json.dumps(body)


def tool_chunk(function: dict[str, Any]) -> str:
    return chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", **function}]})


def raw(*chunks: str) -> list[dict[str, Any]]:
    return [{"raw_chunks": list(chunks)}]


def deep_chunk() -> str:
    """A chunk whose own JSON nests 1,200 levels (the SDK parses it, not the app)."""
    head = '{"id":"x","object":"chat.completion.chunk","created":0,"model":"m","choices":'
    return head + '[{"index":0,"delta":{"content":' + "[" * DEEP + "]" * DEEP + "}}]}"


HOSTILE: dict[str, tuple[list[dict[str, Any]], str]] = {
    "arguments nested 1,200 deep": (
        [{"tool_calls": [{"name": "create_note", "arguments": "[" * DEEP + "]" * DEEP}]}],
        "model_invalid_output",
    ),
    "arguments a JSON object": (
        raw(tool_chunk({"function": {"name": "create_note", "arguments": {"title": "x"}}})),
        "model_invalid_output",
    ),
    "name a number": (
        raw(tool_chunk({"function": {"name": 12345, "arguments": "{}"}})),
        "model_invalid_output",
    ),
    "name too long": (
        raw(tool_chunk({"function": {"name": "n" * 5000, "arguments": "{}"}})),
        "model_invalid_output",
    ),
    "arguments too long": (
        [{"tool_calls": [{"name": "create_note", "arguments": "{" + " " * 40_000 + "}"}]}],
        "model_invalid_output",
    ),
    "tool call index a list": (
        raw(chunk({"tool_calls": [{"index": [0], "function": {"name": "x", "arguments": ""}}]})),
        "model_invalid_output",
    ),
    "content a number": (raw(chunk({"content": 42}), chunk(finish="stop")), "model_invalid_output"),
    "choices an object": (
        raw(json.dumps({"id": "x", "object": "chat.completion.chunk", "choices": {"a": 1}})),
        "model_invalid_output",
    ),
    "chunk nested 1,200 deep": (raw(deep_chunk()), "model_invalid_output"),
    "chunk not JSON": (raw(chunk({"content": "Hi"}), "{not json"), "model_invalid_output"),
    "a flood of tool calls": (
        [{"tool_calls": [{"name": "create_note", "arguments": {}}] * 50}],
        "model_too_many_tool_calls",
    ),
}


@pytest.fixture
def tool_conversation(studio: Studio) -> str:
    bot = create_bot(studio.owner, studio.workspace_id, tools=["create_note"])
    return str(start_conversation(studio.owner, bot["id"])["id"])


def assistant_row(db: Database, conversation: str) -> tuple[Any, ...]:
    rows = db.rows(
        "SELECT status::text, error_code, content, prompt_tokens, completion_tokens FROM message "
        "WHERE conversation_id = %s AND role = 'assistant' ORDER BY created_at DESC",
        conversation,
    )
    assert len(rows) == 1
    return rows[0]


def assert_nothing_left_streaming(db: Database, conversation: str) -> None:
    streaming = db.scalar(
        "SELECT count(*) FROM message WHERE conversation_id = %s AND status = 'streaming'",
        conversation,
    )
    leases = db.scalar(
        "SELECT count(*) FROM turn_lease l JOIN message m ON m.id = l.message_id "
        "WHERE m.conversation_id = %s",
        conversation,
    )
    assert (streaming, leases) == (0, 0)


def sse_send(actor: Actor, conversation: str, content: str, key: str) -> list[Any]:
    response = actor.post(
        messages_url(conversation), json={"content": content}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


@pytest.mark.checklist(
    "C7",
    red="let a malformed provider chunk escape the turn runner (app/chat/provider.py) as a 500, a"
    " hung stream or a turn left streaming",
)
class TestHostileOutputEndsTheTurn:
    @pytest.mark.parametrize("case", sorted(HOSTILE))
    def test_event_stream(
        self, studio: Studio, tool_conversation: str, db: Database, stub: Stub, case: str
    ) -> None:
        responses, code = HOSTILE[case]
        session, key = new_session(), f"hostile-{uuid.uuid4()}"
        script(stub, session, responses)
        content = f"Go {marker(session)}"

        events = sse_send(studio.owner, tool_conversation, content, key)

        assert events[-1].name == "error"
        assert events[-1].data == {"code": code}
        assert "done" not in [e.name for e in events]
        status, error_code, *_ = assistant_row(db, tool_conversation)
        assert (status, error_code) == ("failed", code)
        assert_nothing_left_streaming(db, tool_conversation)
        calls = db.scalar(
            "SELECT count(*) FROM tool_call WHERE conversation_id = %s", tool_conversation
        )
        assert calls == 0  # refused output runs nothing
        # The key is released to the recorded outcome: no second model call, no new rows.
        again = sse_send(studio.owner, tool_conversation, content, key)
        assert [(e.name, e.data) for e in again] == [("error", {"code": code})]
        assert len(recorded(stub, session)) == 1

    @pytest.mark.parametrize(
        "case", ["arguments a JSON object", "chunk nested 1,200 deep", "a flood of tool calls"]
    )
    def test_json_mode(
        self, studio: Studio, tool_conversation: str, db: Database, stub: Stub, case: str
    ) -> None:
        responses, code = HOSTILE[case]
        session, key = new_session(), f"hostile-{uuid.uuid4()}"
        script(stub, session, responses)
        content = f"Go {marker(session)}"

        first = send(studio.owner, tool_conversation, content, idempotency_key=key)
        again = send(studio.owner, tool_conversation, content, idempotency_key=key)

        for response in (first, again):
            assert response.status_code == 502, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == code
        assert (assistant_row(db, tool_conversation)[:2]) == ("failed", code)
        assert_nothing_left_streaming(db, tool_conversation)
        assert len(recorded(stub, session)) == 1


@pytest.mark.checklist(
    "C6",
    "C7",
    red="drop the answer-size or tool-round limits (app/chat/limits.py)",
)
class TestBoundedAnswers:
    def test_a_huge_answer_is_cut_at_the_limit(
        self, studio: Studio, tool_conversation: str, db: Database, stub: Stub
    ) -> None:
        session = new_session()
        script(stub, session, [{"text": "x" * (MAX_ANSWER_CHARS * 10)}])

        events = sse_send(studio.owner, tool_conversation, f"Go {marker(session)}", "huge-1234")

        assert events[-1].name == "error"
        assert events[-1].data == {"code": "answer_too_long"}
        streamed = "".join(e.data["text"] for e in events if e.name == "delta")
        status, code, content, _, completion = assistant_row(db, tool_conversation)
        assert (status, code) == ("failed", "answer_too_long")
        assert len(streamed) == len(content) == MAX_ANSWER_CHARS
        assert completion > 0
        assert_nothing_left_streaming(db, tool_conversation)

    def test_endless_tool_calls_stop_after_the_last_round(
        self, studio: Studio, tool_conversation: str, db: Database, stub: Stub
    ) -> None:
        session = new_session()
        call = {"tool_calls": [{"name": "create_note", "arguments": {"title": "t", "body": "b"}}]}
        script(stub, session, [{**call, "repeat": 1000}])

        response = send(studio.owner, tool_conversation, f"Loop {marker(session)}")

        assert response.status_code == 200, response.text
        assert response.json()["message"]["status"] == "complete"
        assert len(recorded(stub, session)) == MAX_TOOL_ROUNDS + 1
        calls = db.scalar(
            "SELECT count(*) FROM tool_call WHERE conversation_id = %s", tool_conversation
        )
        assert calls == MAX_TOOL_ROUNDS
        assert_nothing_left_streaming(db, tool_conversation)


@pytest.mark.checklist(
    "C6",
    red="charge nothing for a cut, abandoned or refused answer (app/chat/accounting.py)",
)
class TestTokensOnEveryEnding:
    def test_a_cut_stream_is_charged_its_estimate(
        self, studio: Studio, tool_conversation: str, db: Database
    ) -> None:
        """No usage chunk arrives: prompt from the prompt's size, completion from the text."""
        events = sse_send(
            studio.owner, tool_conversation, "[[fail:cut-stream]] one two three four", "cut-12345"
        )

        assert events[-1].data == {"code": "model_unavailable"}
        status, _, content, prompt, completion = assistant_row(db, tool_conversation)
        assert status == "failed"
        assert content
        assert prompt > 0
        assert completion == -(-len(content) // 4)

    def test_a_client_that_leaves_is_charged_what_was_streamed(
        self, studio: Studio, tool_conversation: str, db: Database
    ) -> None:
        words = " ".join(f"word{i}" for i in range(40))
        hang_up_after(studio.owner, tool_conversation, f"[[fail:slow:200]] {words}", deltas=3)

        wait_for(lambda: assistant_row(db, tool_conversation)[0] != "streaming")
        status, code, content, prompt, completion = assistant_row(db, tool_conversation)
        assert (status, code) == ("incomplete", "client_disconnected")
        assert prompt > 0
        assert completion >= -(-len(content) // 4) > 0
        assert_nothing_left_streaming(db, tool_conversation)

    def test_refused_output_is_charged_the_reported_usage(
        self, studio: Studio, tool_conversation: str, db: Database, stub: Stub
    ) -> None:
        session = new_session()
        usage = json.dumps(
            {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
            }
        )
        script(stub, session, raw(chunk({"content": "Hello"}), usage, chunk({"content": 42})))

        sse_send(studio.owner, tool_conversation, f"Go {marker(session)}", "usage-1234")

        status, code, content, prompt, completion = assistant_row(db, tool_conversation)
        assert (status, code, content, prompt, completion) == (
            "failed",
            "model_invalid_output",
            "Hello",
            7,
            3,
        )
