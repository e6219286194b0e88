"""Conversations and turns through the API (JSON mode: one request, one stored turn)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Actor

JSON = {"Accept": "application/json"}


def start_conversation(actor: Actor, bot_id: str, title: str | None = None) -> dict[str, Any]:
    body = {} if title is None else {"title": title}
    response = actor.post(f"/v1/bots/{bot_id}/conversations", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def send(
    actor: Actor, conversation_id: str, content: str, *, idempotency_key: str | None = None
) -> httpx.Response:
    """``POST .../messages`` in JSON mode; the caller asserts on the answer."""
    headers = dict(JSON)
    if idempotency_key is not None:
        headers["Idempotency-Key"] = idempotency_key
    return actor.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"content": content},
        headers=headers,
    )


def send_ok(actor: Actor, conversation_id: str, content: str) -> dict[str, Any]:
    """One completed turn: the ``TurnResult`` (user message id, stored answer, tool calls)."""
    response = send(actor, conversation_id, content)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    assert result["message"]["status"] == "complete", result
    return result
