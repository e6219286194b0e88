"""Talking to the chat API and to the model stub the way a client and a test double do.

The stub keeps scripts and recordings per *session*; the backend forwards user text but no
headers, so a test names its session with a ``[[session:ID]]`` marker in the message it sends.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.config import Settings
from tests.support import Actor, Database, Server, Stub


def new_session() -> str:
    return f"chat-{secrets.token_hex(6)}"


def marker(session: str) -> str:
    return f"[[session:{session}]]"


def script(stub: Stub, session: str, responses: list[dict[str, Any]]) -> None:
    """Queue what the "model" answers to that session's next completions, in order."""
    response = httpx.post(
        f"{stub.url}/_stub/script",
        params={"session": session},
        json={"responses": responses},
        timeout=5,
    )
    response.raise_for_status()


def recorded(stub: Stub, session: str) -> list[dict[str, Any]]:
    """The completion request bodies the stub received for ``session``, oldest first."""
    response = httpx.get(f"{stub.url}/_stub/requests", params={"session": session}, timeout=5)
    response.raise_for_status()
    return [item["body"] for item in response.json()["requests"]]


@dataclass(frozen=True)
class Event:
    name: str
    data: dict[str, Any]


def parse_sse(text: str) -> list[Event]:
    """``event:``/``data:`` blocks separated by blank lines (the whole stream at once).

    Keep-alive comment blocks (``: keep-alive``) are skipped, as an EventSource client does."""
    events: list[Event] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        lines = [line for line in block.split("\n") if not line.startswith(":")]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines if ": " in line)
        events.append(Event(fields["event"], json.loads(fields["data"])))
    return events


def messages_url(conversation_id: str) -> str:
    return f"/v1/conversations/{conversation_id}/messages"


def stream(actor: Actor, conversation_id: str, content: str) -> tuple[httpx.Response, list[Event]]:
    """Send in the default (event stream) mode and read the whole stream."""
    response = actor.post(messages_url(conversation_id), json={"content": content})
    assert response.status_code == 200, response.text
    return response, parse_sse(response.text)


def hang_up_after(actor: Actor, conversation_id: str, content: str, *, deltas: int) -> None:
    """Send ``content`` as a streamed turn and close the socket once ``deltas`` deltas arrived."""
    with (
        httpx.Client(base_url=actor.server.url, timeout=30) as client,
        client.stream(
            "POST",
            messages_url(conversation_id),
            json={"content": content},
            headers=actor.headers(),
        ) as response,
    ):
        assert response.status_code == 200
        seen = 0
        for line in response.iter_lines():
            seen += line.startswith("event: delta")
            if seen == deltas:
                return  # hang up mid-answer
    raise AssertionError(f"the stream ended before {deltas} deltas")


def stored_messages(actor: Actor, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation as its owner reads it through the API, oldest first."""
    response = actor.get(messages_url(conversation_id), params={"limit": 100})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return sorted(items, key=lambda m: str(m["created_at"]))


def message_rows(db: Database, conversation_id: str) -> list[tuple[Any, ...]]:
    """(role, status, content) of every stored message, in order (the observer's view)."""
    return db.rows(
        "SELECT role::text, status::text, content FROM message WHERE conversation_id = %s "
        "ORDER BY created_at, id",
        conversation_id,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def daily_budget(server: Server) -> int:
    """The server's per-workspace daily token budget (its env, else the settings default)."""
    raw = server.env.get("CHAT_DAILY_TOKEN_BUDGET")
    default = Settings.model_fields["chat_daily_token_budget"].default
    return int(raw) if raw else int(default)


def tokens_spent_today(db: Database, workspace_id: str) -> int:
    value = db.scalar(
        "SELECT prompt_tokens + completion_tokens FROM workspace_usage "
        "WHERE workspace_id = %s AND day = %s",
        workspace_id,
        datetime.now(UTC).date(),
    )
    return int(value or 0)


def set_tokens_spent_today(db: Database, workspace_id: str, tokens: int) -> None:
    db.scalar(
        "INSERT INTO workspace_usage (workspace_id, day, prompt_tokens, completion_tokens) "
        "VALUES (%s, %s, %s, 0) ON CONFLICT (workspace_id, day) DO UPDATE "
        "SET prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = 0 RETURNING day",
        workspace_id,
        datetime.now(UTC).date(),
        tokens,
    )
