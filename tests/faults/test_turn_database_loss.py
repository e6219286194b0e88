"""Fault injection for chat turns: PostgreSQL goes away while an answer streams.

Real processes only: the API and the worker on the private PostgreSQL and Redis of
tests/faults/harness.py, the model stub answering slowly. PostgreSQL is stopped (immediate
shutdown: every backend gone at once) while the answer streams and while a JSON-mode turn waits
for the model; it comes back; the worker's sweeper ends what could not be written. Figures
asserted: the stream ends with an SSE ``error`` event (never a broken body), the JSON-mode turn
answers 503 problem+json with ``Retry-After`` (never a 500), rows left ``streaming`` after
recovery (0), and the same Idempotency-Key answers the recorded outcome once the database is back.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx

from app.chat.jobs import SWEEP_EVERY_SECONDS
from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.faults.conftest import ApiFactory, WorkerFactory
from tests.faults.private_postgres import PrivatePostgres
from tests.support import Actor, Database, Stub

LEASE_SECONDS = 2.0
SLACK_SECONDS = 10.0  # worker start-up, reconnecting to a restarted server, one poll
SLOW = "[[fail:slow:300]] " + " ".join(f"word{i}" for i in range(40))


def _streaming_rows(db: Database, workspace_id: str) -> int:
    return int(
        db.scalar(
            "SELECT count(*) FROM message WHERE workspace_id = %s AND status = 'streaming'",
            workspace_id,
        )
    )


def _assistant_rows(db: Database, workspace_id: str) -> list[tuple[Any, ...]]:
    return db.rows(
        "SELECT conversation_id::text, status::text, error_code FROM message "
        "WHERE workspace_id = %s AND role = 'assistant' ORDER BY created_at",
        workspace_id,
    )


def _json_turn(actor: Actor, conversation: str, key: str, out: dict[str, httpx.Response]) -> None:
    out["response"] = actor.post(
        f"/v1/conversations/{conversation}/messages",
        json={"content": SLOW},
        headers={"Idempotency-Key": key, "Accept": "application/json"},
    )


def test_database_lost_mid_stream_ends_the_turn_and_the_worker_settles_it(
    api_factory: ApiFactory,
    worker_factory: WorkerFactory,
    fault_db: Database,
    private_postgres: PrivatePostgres,
    stub: Stub,
) -> None:
    api = api_factory(
        overrides={
            "OPENAI_BASE_URL": stub.base_url,
            "CHAT_TURN_LEASE_SECONDS": str(LEASE_SECONDS),
        }
    )
    owner = create_actor(api, fault_db, "turn-db-loss")
    workspace_id = create_workspace(owner, "Turn database loss")
    bot = create_bot(owner, workspace_id)
    streamed_conversation = str(start_conversation(owner, bot["id"])["id"])
    json_conversation = str(start_conversation(owner, bot["id"])["id"])
    stream_key, json_key = f"db-loss-{uuid.uuid4()}", f"db-loss-json-{uuid.uuid4()}"

    # A JSON-mode turn waiting on the slow model while the database goes away.
    json_out: dict[str, httpx.Response] = {}
    json_thread = threading.Thread(
        target=_json_turn, args=(owner, json_conversation, json_key, json_out), daemon=True
    )
    json_thread.start()

    events: list[str] = []
    with (
        httpx.Client(base_url=api.url, timeout=60) as client,
        client.stream(
            "POST",
            f"/v1/conversations/{streamed_conversation}/messages",
            json={"content": SLOW},
            headers=owner.headers({"Idempotency-Key": stream_key}),
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():  # a broken body would raise here
            if line.startswith("event: "):
                events.append(line.removeprefix("event: "))
                if events.count("delta") == 3:
                    private_postgres.stop("immediate")
        body_completed = True
    json_thread.join(timeout=60)

    assert body_completed
    assert events.count("delta") >= 3
    assert events[-1] == "error", events[-5:]
    assert "done" not in events
    answer = json_out["response"]
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert int(answer.headers["retry-after"]) > 0
    assert answer.json()["code"] == "database_unavailable"

    # The database comes back; the rows it could not take are still `streaming`, under a lease.
    private_postgres.start()
    assert _streaming_rows(fault_db, workspace_id) == 2
    started = time.monotonic()
    worker_factory(
        "--jobs", "end_orphaned_turns", WORKER_POLL_SECONDS="0.2", CHAT_TURN_LEASE_SECONDS="2"
    )
    deadline = started + LEASE_SECONDS + SWEEP_EVERY_SECONDS + SLACK_SECONDS
    while _streaming_rows(fault_db, workspace_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    ended_after = time.monotonic() - started
    assert _streaming_rows(fault_db, workspace_id) == 0, f"still streaming after {ended_after:.1f}s"
    assert [row[1:] for row in _assistant_rows(fault_db, workspace_id)] == [
        ("failed", "turn_interrupted"),
        ("failed", "turn_interrupted"),
    ]
    reserved = fault_db.scalar(
        "SELECT count(*) FROM usage_reservation WHERE workspace_id = %s", workspace_id
    )
    assert reserved == 0  # both turns settled against the budget by the sweeper

    # The same keys answer the recorded outcome (the API reconnected by itself: pre-ping).
    replay = owner.post(
        f"/v1/conversations/{json_conversation}/messages",
        json={"content": SLOW},
        headers={"Idempotency-Key": json_key, "Accept": "application/json"},
    )
    assert replay.status_code == 503, replay.text
    assert replay.json()["code"] == "turn_interrupted"
    streamed_again = owner.post(
        f"/v1/conversations/{streamed_conversation}/messages",
        json={"content": SLOW},
        headers={"Idempotency-Key": stream_key},
    )
    assert streamed_again.status_code == 200
    assert 'event: error\ndata: {"code":"turn_interrupted"}' in streamed_again.text
    assert "Traceback" not in api.log_text()
