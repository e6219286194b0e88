"""A turn's ``message.created`` events, written by the turn's own statements.

The user message's fan-out rides in the admission statement and the answer's in the ending's
(``FanOutRepository.fan_out``, docs/performance.md "Round 3"), not through ``emit_event``. They
must reach exactly the endpoints ``emit_event`` reaches, with its bodies and states: the
workspace's endpoints subscribed to the event (not another workspace's of the same owner, not
an unsubscribed one), content only for endpoints that opted in, pending and queued for an
enabled endpoint, held and unqueued for a disabled one; and nothing for a refused turn.
"""

from __future__ import annotations

import json
from typing import Any

from tests.chat.conftest import Studio
from tests.factories.conversations import send, start_conversation
from tests.factories.workspaces import create_workspace
from tests.support import Actor, Database

QUESTION = "a private question"


def register(
    actor: Actor,
    workspace_id: str,
    *,
    include_content: bool = False,
    events: tuple[str, ...] = ("message.created",),
) -> str:
    response = actor.post(
        f"/v1/workspaces/{workspace_id}/webhook-endpoints",
        json={
            "url": "http://127.0.0.2:9/hook",
            "event_types": list(events),
            "include_content": include_content,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def deliveries(db: Database, endpoint_id: str) -> list[tuple[str, dict[str, Any], bool]]:
    """(status, body, queued) of the endpoint's ``message.created`` deliveries."""
    rows = db.rows(
        "SELECT d.status::text, d.payload, q.delivery_id IS NOT NULL, d.workspace_id::text "
        "FROM webhook_delivery d LEFT JOIN webhook_queue q ON q.delivery_id = d.id "
        "WHERE d.endpoint_id = %s AND d.event_type = 'message.created' ORDER BY d.created_at",
        endpoint_id,
    )
    return [(status, json.loads(payload), queued) for status, payload, queued, _ in rows]


def test_a_turn_fans_out_both_messages_as_emit_event_does(studio: Studio, db: Database) -> None:
    owner, ws = studio.owner, studio.workspace_id
    full = register(owner, ws, include_content=True)
    minimal = register(owner, ws)
    disabled = register(owner, ws, include_content=True)
    patched = owner.patch(f"/v1/webhook-endpoints/{disabled}", json={"enabled": False})
    assert patched.status_code == 200, patched.text
    unsubscribed = register(owner, ws, events=("member.added",))
    # The owner's other workspace: RLS admits it for this session; only the filter keeps it out.
    elsewhere = register(owner, create_workspace(owner, "Elsewhere"), include_content=True)
    conversation = str(start_conversation(owner, studio.bot_id)["id"])

    sent = send(owner, conversation, QUESTION)
    assert sent.status_code == 200, sent.text
    turn = sent.json()
    user = {
        "message_id": turn["user_message_id"],
        "conversation_id": conversation,
        "role": "user",
    }
    answer = {
        "message_id": turn["message"]["id"],
        "conversation_id": conversation,
        "role": "assistant",
        "status": "complete",
        "error_code": None,
    }
    said = turn["message"]["content"]
    with_content = [{**user, "content": QUESTION}, {**answer, "content": said}]

    def bodies(endpoint_id: str) -> list[dict[str, Any]]:
        found = deliveries(db, endpoint_id)
        assert all(body["type"] == "message.created" for _, body, _ in found)
        return sorted((body["data"] for _, body, _ in found), key=lambda d: d["role"] != "user")

    assert bodies(full) == with_content
    assert bodies(minimal) == [user, answer]
    assert bodies(disabled) == with_content
    assert {(status, queued) for status, _, queued in deliveries(db, full)} == {("pending", True)}
    assert {(status, queued) for status, _, queued in deliveries(db, minimal)} == {
        ("pending", True)
    }
    assert {(status, queued) for status, _, queued in deliveries(db, disabled)} == {("held", False)}
    assert deliveries(db, unsubscribed) == []
    assert deliveries(db, elsewhere) == []
    # The other writes the admission carried: the conversation touched, the lease (released
    # by the ending's statement).
    assert db.scalar("SELECT last_message_at FROM conversation WHERE id = %s", conversation)
    assert db.scalar("SELECT count(*) FROM turn_lease WHERE workspace_id = %s", ws) == 0


def test_a_refused_turn_emits_nothing(studio: Studio, db: Database) -> None:
    """A turn refused by the budget (the admission statement's ledger row is at the budget)
    rolls back the writes its statement carried: no event, no lease, no touched conversation."""
    owner, ws = studio.owner, studio.workspace_id
    endpoint = register(owner, ws, include_content=True)
    conversation = str(start_conversation(owner, studio.bot_id)["id"])
    touched = db.scalar("SELECT last_message_at FROM conversation WHERE id = %s", conversation)
    db.scalar(
        "INSERT INTO workspace_usage (workspace_id, day, prompt_tokens, completion_tokens, "
        "reserved_tokens, updated_at) VALUES (%s, (now() AT TIME ZONE 'UTC')::date, "
        "1000000000000, 0, 0, now()) ON CONFLICT (workspace_id, day) DO UPDATE SET "
        "prompt_tokens = 1000000000000 RETURNING 1",
        ws,
    )
    refused = send(owner, conversation, QUESTION)
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "token_budget_exhausted"
    assert deliveries(db, endpoint) == []
    assert db.scalar("SELECT count(*) FROM turn_lease WHERE workspace_id = %s", ws) == 0
    assert db.scalar("SELECT last_message_at FROM conversation WHERE id = %s", conversation) == (
        touched
    )
