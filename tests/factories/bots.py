"""Bots through the API (owners and admins create them)."""

from __future__ import annotations

from typing import Any

from tests.support import Actor

DEFAULT_PROMPT = "You are a helpful assistant for a small creator studio."


def bot_body(**overrides: Any) -> dict[str, Any]:
    """A valid ``BotCreate`` body; ``overrides`` replace or add fields."""
    body: dict[str, Any] = {
        "name": "Helper",
        "system_prompt": DEFAULT_PROMPT,
        "model": "stub-small",
        "max_output_tokens": 256,
    }
    body.update(overrides)
    return body


def create_bot(actor: Actor, workspace_id: str, **overrides: Any) -> dict[str, Any]:
    response = actor.post(f"/v1/workspaces/{workspace_id}/bots", json=bot_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
