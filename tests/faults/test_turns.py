"""Fault injection for chat turns: the API process dies mid-stream, the worker ends the orphan.

Real processes only: uvicorn serving a turn from the model stub (slow answer), SIGKILLed while it
streams; the real worker (``python -m app worker --jobs end_orphaned_turns``) with a short
``CHAT_TURN_LEASE_SECONDS``. Figures asserted: rows left ``streaming`` after recovery (0), the
time from the kill to the ending (at most the lease plus one sweep interval, plus start-up), the
``message.created`` event a normal ending emits, and the recorded outcome for a retry with the
same Idempotency-Key.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from app.chat.jobs import SWEEP_EVERY_SECONDS
from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.faults.turn_stack import LEASE_SECONDS, turn_api, turn_env, turn_sweeper  # noqa: F401
from tests.servers import ServerFactory
from tests.support import (
    Actor,
    Database,
    Server,
)

SLACK_SECONDS = 8.0  # worker start-up and one poll, on a busy 2-core machine
WORDS = " ".join(f"word{i}" for i in range(60))


def conversation_with_hook(api: Server, db: Database) -> tuple[Actor, str, str]:
    owner = create_actor(api, db, "turn-faults")
    workspace_id = create_workspace(owner, "Turn faults")
    hook = owner.post(
        f"/v1/workspaces/{workspace_id}/webhook-endpoints",
        json={"url": "http://127.0.0.2:9/hook", "event_types": ["message.created"]},
    )
    assert hook.status_code == 201, hook.text
    bot = create_bot(owner, workspace_id)
    return owner, workspace_id, str(start_conversation(owner, bot["id"])["id"])


def assistant(db: Database, conversation: str) -> tuple[Any, ...]:
    rows = db.rows(
        "SELECT id::text, status::text, error_code, prompt_tokens, completion_tokens "
        "FROM message WHERE conversation_id = %s AND role = 'assistant'",
        conversation,
    )
    assert len(rows) == 1
    return rows[0]


def streaming_rows(db: Database, workspace_id: str) -> int:
    return int(
        db.scalar(
            "SELECT count(*) FROM message WHERE workspace_id = %s AND status = 'streaming'",
            workspace_id,
        )
    )


def stream_until_deltas(actor: Actor, conversation: str, key: str, deltas: int) -> httpx.Client:
    """Read the event stream until ``deltas`` deltas arrived, then return (stream still open)."""
    client = httpx.Client(base_url=actor.server.url, timeout=30)
    response = client.send(
        client.build_request(
            "POST",
            f"/v1/conversations/{conversation}/messages",
            json={"content": f"[[fail:slow:300]] {WORDS}"},
            headers=actor.headers({"Idempotency-Key": key}),
        ),
        stream=True,
    )
    assert response.status_code == 200
    seen = 0
    for line in response.iter_lines():
        if line.startswith("event: delta"):
            seen += 1
            if seen >= deltas:
                return client
    raise AssertionError("the stream ended early")


def test_a_turn_whose_api_process_died_is_ended_by_the_worker(
    server_factory: ServerFactory,
    api: Server,
    env: dict[str, str],
    db: Database,
    sweeper: subprocess.Popen[bytes],
    tmp_path: Path,
) -> None:
    owner, workspace_id, conversation = conversation_with_hook(api, db)
    key = f"killed-{uuid.uuid4()}"
    client = stream_until_deltas(owner, conversation, key, deltas=6)  # > one renewal (0.67 s)

    api.process.send_signal(signal.SIGKILL)
    api.process.wait(timeout=10)
    killed_at = time.monotonic()
    client.close()
    message_id, status, *_ = assistant(db, conversation)
    assert status == "streaming"  # the orphan: nobody is left to end it but the worker

    deadline = killed_at + LEASE_SECONDS + SWEEP_EVERY_SECONDS + SLACK_SECONDS
    while streaming_rows(db, workspace_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    ended_after = time.monotonic() - killed_at

    assert streaming_rows(db, workspace_id) == 0, f"still streaming after {ended_after:.1f} s"
    _, status, code, prompt, completion = assistant(db, conversation)
    assert (status, code) == ("failed", "turn_interrupted")
    assert prompt > 0  # charged: the prompt estimate ...
    assert completion > 0  # ... and what was streamed before the kill
    leases = db.scalar("SELECT count(*) FROM turn_lease WHERE message_id = %s", message_id)
    assert leases == 0
    payloads = [
        json.loads(p)
        for (p,) in db.rows(
            "SELECT payload FROM webhook_delivery WHERE workspace_id = %s "
            "AND event_type = 'message.created'",
            workspace_id,
        )
    ]
    ended = [p["data"] for p in payloads if p["data"].get("message_id") == message_id]
    assert [(e["status"], e["error_code"]) for e in ended] == [("failed", "turn_interrupted")]

    # A new API process answers the same key with the recorded outcome, not 409 in_progress.
    with server_factory(env, log_path=tmp_path / "api-again.log") as again:
        owner.server = again  # the same session cookie, the new process's origin
        json_mode = owner.post(
            f"/v1/conversations/{conversation}/messages",
            json={"content": f"[[fail:slow:300]] {WORDS}"},
            headers={"Idempotency-Key": key, "Accept": "application/json"},
        )
        streamed = owner.post(
            f"/v1/conversations/{conversation}/messages",
            json={"content": f"[[fail:slow:300]] {WORDS}"},
            headers={"Idempotency-Key": key},
        )
    assert json_mode.status_code == 503, json_mode.text
    assert json_mode.headers["content-type"] == "application/problem+json"
    assert json_mode.json()["code"] == "turn_interrupted"
    assert streamed.status_code == 200
    assert 'event: error\ndata: {"code":"turn_interrupted"}' in streamed.text
    assert streaming_rows(db, workspace_id) == 0


def test_a_live_turn_keeps_its_lease_past_the_lease_length(
    api: Server, db: Database, sweeper: subprocess.Popen[bytes]
) -> None:
    """The heartbeat renews the lease: a turn streaming for 3 leases is not taken as dead."""
    owner, _, conversation = conversation_with_hook(api, db)
    started = time.monotonic()
    response = owner.post(
        f"/v1/conversations/{conversation}/messages",
        json={"content": "[[fail:slow:300]] " + " ".join(f"w{i}" for i in range(20))},
        headers={"Accept": "application/json"},
    )
    assert time.monotonic() - started > 3 * LEASE_SECONDS
    assert response.status_code == 200, response.text
    assert response.json()["message"]["status"] == "complete"
    _, status, code, *_ = assistant(db, conversation)
    assert (status, code) == ("complete", None)
