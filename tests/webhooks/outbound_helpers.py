"""Helpers of the outgoing-webhook tests (tests/webhooks/test_outbound.py, test_recovery.py): what a
receiver verifies, and the endpoint and delivery reads.
"""

from __future__ import annotations

from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.support import Actor
from tests.webhooks.conftest import workspace_of
from tests.webhooks.receiver import Captured


def verify(secret: str, captured: Captured) -> Any:
    """What a receiver does: the official library checks id, timestamp and signature."""
    return Webhook(secret).verify(captured.body, captured.headers)


def new_conversation(actor: Actor, workspace_id: str | None = None) -> str:
    bot = create_bot(actor, workspace_id or workspace_of(actor))
    return str(start_conversation(actor, str(bot["id"]), title="Private title")["id"])


def deliveries(actor: Actor, endpoint_id: str) -> list[dict[str, Any]]:
    response = actor.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def endpoint(actor: Actor, endpoint_id: str) -> dict[str, Any]:
    response = actor.get(f"/v1/webhook-endpoints/{endpoint_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
