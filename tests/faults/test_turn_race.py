"""A turn is ended once, when its runner and the orphan sweeper both try to end it.

The race, made on purpose with real processes: the API process streams a slow answer and is
frozen (SIGSTOP) for longer than its turn lease, so the real worker's sweeper takes the turn as
orphaned and ends it (``failed``, ``turn_interrupted``, charged its lease's estimates). The API
process is then thawed (SIGCONT): its runner is alive, finishes the answer and writes its own
ending. Only one ending may stand: the runner's ``UPDATE … WHERE status = 'streaming'`` finds
nothing and its settlement finds the reservation already taken. Counted afterwards: the
message's status and content (the sweeper's), ``message.created`` events for the answer (one),
the day's ledger (charged once, what the sweeper wrote on the row), holds and leases (none).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

import httpx

from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.faults.turn_stack import LEASE_SECONDS, turn_api, turn_env, turn_sweeper  # noqa: F401
from tests.support import (
    Database,
    Server,
)

ENDED_WITHIN_SECONDS = 25.0  # lease + one sweep (5 s) + worker start-up on a busy machine
WORDS = " ".join(f"word{i}" for i in range(40))


def _answer(db: Database, conversation: str) -> tuple[str, str, str | None, str, int]:
    rows = db.rows(
        "SELECT id::text, status::text, error_code, content, prompt_tokens + completion_tokens "
        "FROM message WHERE conversation_id = %s AND role = 'assistant'",
        conversation,
    )
    assert len(rows) == 1, rows
    message_id, status, code, content, tokens = rows[0]
    return str(message_id), str(status), code, str(content or ""), int(tokens)


def test_a_turn_ended_by_the_sweeper_is_not_ended_again_by_its_runner(
    api: Server, db: Database, sweeper: subprocess.Popen[bytes]
) -> None:
    owner = create_actor(api, db, "turn-race")
    workspace_id = create_workspace(owner, "Turn race")
    hook = owner.post(
        f"/v1/workspaces/{workspace_id}/webhook-endpoints",
        json={"url": "http://127.0.0.2:9/hook", "event_types": ["message.created"]},
    )
    assert hook.status_code == 201, hook.text
    bot = create_bot(owner, workspace_id)
    conversation = str(start_conversation(owner, bot["id"])["id"])

    with httpx.Client(base_url=api.url, timeout=90) as client:
        request = client.build_request(
            "POST",
            f"/v1/conversations/{conversation}/messages",
            json={"content": f"[[fail:slow:150]] {WORDS}"},
            headers=owner.headers(),
        )
        response = client.send(request, stream=True)
        assert response.status_code == 200
        lines = response.iter_lines()
        deltas = 0
        while deltas < 3:
            deltas += next(lines).startswith("event: delta")

        api.process.send_signal(signal.SIGSTOP)  # alive, but it cannot renew its lease
        try:
            deadline = time.monotonic() + ENDED_WITHIN_SECONDS
            while time.monotonic() < deadline:
                if _answer(db, conversation)[1] != "streaming":
                    break
                time.sleep(0.2)
            swept = _answer(db, conversation)
        finally:
            api.process.send_signal(signal.SIGCONT)
        assert swept[1:3] == ("failed", "turn_interrupted"), swept

        rest = "\n".join(lines)  # the runner goes on streaming, then tries to end the turn
    assert "event: delta" in rest or "event: done" in rest or "event: error" in rest, rest[-500:]
    time.sleep(1.0)  # the runner's ending transaction, after the last byte

    message_id, status, code, content, tokens = _answer(db, conversation)
    assert (status, code, content) == swept[1:4], "the runner overwrote the sweeper's ending"
    assert tokens == swept[4]
    charged = db.scalar(
        "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM workspace_usage "
        "WHERE workspace_id = %s",
        workspace_id,
    )
    assert int(charged) == tokens, "the turn was charged twice (or not as the sweeper wrote)"
    left = db.rows(
        "SELECT (SELECT count(*) FROM usage_reservation WHERE message_id = %s),"
        " (SELECT count(*) FROM turn_lease WHERE message_id = %s)",
        message_id,
        message_id,
    )[0]
    assert left == (0, 0)
    payloads = [
        json.loads(p)
        for (p,) in db.rows(
            "SELECT payload FROM webhook_delivery WHERE workspace_id = %s "
            "AND event_type = 'message.created'",
            workspace_id,
        )
    ]
    endings = [p["data"] for p in payloads if p["data"].get("message_id") == message_id]
    assert [(e["status"], e["error_code"]) for e in endings] == [("failed", "turn_interrupted")]
