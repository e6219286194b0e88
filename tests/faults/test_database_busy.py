"""A statement the database does not answer in time is "busy" (503 + Retry-After), never a 500.

Every chat turn of a workspace passes through one ledger row per day (the budget reservation
and the settlement upsert it). Under overload a turn can queue on that row's lock for longer
than ``DATABASE_STATEMENT_TIMEOUT_MS`` and PostgreSQL cancels the statement (``57014``); the
load driver found it as 500s with 16 turns in flight on one workspace
(``python -m load.inprocess send``, docs/performance.md). Here the queue is made on purpose: a
superuser connection holds the workspace's ledger row, the server's statement timeout is short,
and a turn is sent. Asserted: the answer is a 503 problem with ``database_busy`` and a
``Retry-After``, nothing of the turn is stored (no message, hold or lease), the log says what
timed out (SQLSTATE, no statement text) and no "unhandled exception"; once the row is free the
same send succeeds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.support import Database, Server, Stub, base_env, psycopg_dsn, start_server, stop_server

TIMEOUT_MS = 400


@pytest.fixture(scope="module")
def api(db: Database, stub: Stub, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = base_env(db, OPENAI_BASE_URL=stub.base_url, DATABASE_STATEMENT_TIMEOUT_MS=str(TIMEOUT_MS))
    server = start_server(env, tmp_path_factory.mktemp("busy") / "api.log")
    yield server
    stop_server(server)


def _stored(db: Database, workspace_id: str) -> tuple[int, int, int]:
    row = db.rows(
        "SELECT (SELECT count(*) FROM message WHERE workspace_id = %s),"
        " (SELECT count(*) FROM usage_reservation WHERE workspace_id = %s),"
        " (SELECT count(*) FROM turn_lease WHERE workspace_id = %s)",
        *(workspace_id,) * 3,
    )[0]
    return int(row[0]), int(row[1]), int(row[2])


def test_a_turn_queued_past_the_statement_timeout_is_busy_and_stores_nothing(
    api: Server, db: Database
) -> None:
    owner = create_actor(api, db, "busy")
    workspace_id = create_workspace(owner, "Busy ledger")
    bot = create_bot(owner, workspace_id)
    conversation = start_conversation(owner, bot["id"])["id"]
    path = f"/v1/conversations/{conversation}/messages"
    first = owner.post(path, json={"content": "hello"}, headers={"Accept": "application/json"})
    assert first.status_code == 200, first.text  # today's ledger row now exists
    before = _stored(db, workspace_id)
    log_path = Path(api.log_path)
    logged_before = log_path.stat().st_size

    with psycopg.connect(psycopg_dsn(db.admin)) as holder:  # a transaction, not autocommit
        locked = holder.execute(
            "SELECT 1 FROM workspace_usage WHERE workspace_id = %s FOR UPDATE", (workspace_id,)
        ).fetchall()
        assert locked, "the first turn left no ledger row to queue on"
        queued = owner.post(
            path, json={"content": "are you there?"}, headers={"Accept": "application/json"}
        )
        holder.rollback()

    assert queued.status_code == 503, queued.text
    assert queued.headers["content-type"].startswith("application/problem+json")
    assert queued.headers.get("retry-after", "").isdigit()
    body = queued.json()
    assert body["code"] == "database_busy", body
    for leak in ("57014", "statement timeout", "canceling", "workspace_usage", "SELECT"):
        assert leak not in queued.text
    assert _stored(db, workspace_id) == before  # no message, no hold, no lease

    lines = [json.loads(line) for line in log_path.read_bytes()[logged_before:].splitlines()]
    assert not [e for e in lines if e.get("event") == "unhandled exception"], lines
    timed_out = [e for e in lines if e.get("event") == "database statement timed out"]
    assert [e.get("sqlstate") for e in timed_out] == ["57014"], lines

    again = owner.post(
        path, json={"content": "are you there?"}, headers={"Accept": "application/json"}
    )
    assert again.status_code == 200, again.text
    messages, holds, leases = _stored(db, workspace_id)
    assert (messages, holds, leases) == (before[0] + 2, 0, 0)
