"""Graceful drain on SIGTERM, with real processes: what Kubernetes or compose does on every deploy.

The API (``python -m app serve``) stops accepting at once, lets an open chat turn finish within
``SHUTDOWN_GRACE_SECONDS`` and, past it, ends the turn ``incomplete`` and tells the client with a
last SSE ``error`` event; the process exits within the grace period plus start-up slack. The worker
(``python -m app worker --jobs deliver_email``, a slow SMTP sink) finishes the batch it claimed and
exits: no outbox row is left leased. Figures for docs/reliability.md are printed.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor, signup
from tests.factories.workspaces import create_workspace
from tests.support import ROOT, Actor, Database, Server, Stub, base_env, free_port, start_server

GRACE_SECONDS = 3
SLACK_SECONDS = 6.0  # interpreter exit, engine disposal, a busy 2-core machine


@pytest.fixture(params=[1, 2], ids=["one-process", "two-workers"])
def api(
    db: Database, stub: Stub, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """``serve`` as the images run it: one process (Kubernetes), or ``--workers`` (compose)."""
    env = base_env(db, OPENAI_BASE_URL=stub.base_url, SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS))
    server = start_server(env, tmp_path / "api.log", workers=request.param)
    yield server
    if server.process.poll() is None:
        server.process.kill()
        server.process.wait(timeout=10)


def conversation(api: Server, db: Database) -> tuple[Actor, str]:
    owner = create_actor(api, db, "drain")
    bot = create_bot(owner, create_workspace(owner, "Drain"))
    return owner, str(start_conversation(owner, bot["id"])["id"])


def open_stream(actor: Actor, conversation_id: str, content: str) -> httpx.Response:
    client = httpx.Client(base_url=actor.server.url, timeout=30)
    response = client.send(
        client.build_request(
            "POST",
            f"/v1/conversations/{conversation_id}/messages",
            json={"content": content},
            headers=actor.headers({"Idempotency-Key": f"drain-{uuid.uuid4()}"}),
        ),
        stream=True,
    )
    assert response.status_code == 200
    return response


def events_after_sigterm(api: Server, response: httpx.Response, deltas: int) -> list[str]:
    """Read ``deltas`` deltas, SIGTERM the API, read the rest: every event name and data line."""
    lines = response.iter_lines()
    seen = 0
    for line in lines:
        if line.startswith("event: delta"):
            seen += 1
            if seen >= deltas:
                break
    api.process.send_signal(signal.SIGTERM)
    rest: list[str] = []
    try:
        rest.extend(line for line in lines if line)
    except httpx.HTTPError as exc:  # a cut stream is what the drain must prevent
        rest.append(f"transport error: {type(exc).__name__}")
    return rest


def assistant_row(db: Database, conversation_id: str) -> tuple[str, str | None]:
    rows = db.rows(
        "SELECT status::text, error_code FROM message "
        "WHERE conversation_id = %s AND role = 'assistant'",
        conversation_id,
    )
    assert len(rows) == 1
    return str(rows[0][0]), rows[0][1]


def test_sigterm_past_the_grace_period_ends_the_turn_and_tells_the_client(
    api: Server, db: Database
) -> None:
    owner, conversation_id = conversation(api, db)
    words = " ".join(f"word{i}" for i in range(60))  # 60 x 300 ms: far past the grace period
    response = open_stream(owner, conversation_id, f"[[fail:slow:300]] {words}")
    started = time.monotonic()
    rest = events_after_sigterm(api, response, deltas=3)
    # Stop accepting: a new connection during the drain is refused, never queued.
    with pytest.raises(httpx.TransportError):
        httpx.get(api.url + "/healthz", timeout=2)
    api.process.wait(timeout=GRACE_SECONDS + SLACK_SECONDS)
    exited_after = time.monotonic() - started

    assert rest[-2:] == ["event: error", 'data: {"code":"turn_interrupted"}'], rest[-4:]
    status, code = assistant_row(db, conversation_id)
    assert status == "incomplete", (status, code)
    assert code is not None
    assert api.process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    assert "event stream ended by shutdown" in api.log_text()
    print(  # noqa: T201 - figures for docs/reliability.md
        f"drain: exited_after={exited_after:.1f}s grace={GRACE_SECONDS}s row={status}/{code}"
    )


def test_sigterm_lets_a_turn_that_ends_within_the_grace_period_finish(
    api: Server, db: Database
) -> None:
    owner, conversation_id = conversation(api, db)
    response = open_stream(owner, conversation_id, "[[fail:slow:300]] one two three four five")
    rest = events_after_sigterm(api, response, deltas=1)
    api.process.wait(timeout=GRACE_SECONDS + SLACK_SECONDS)

    assert "event: done" in rest, rest[-4:]
    assert assistant_row(db, conversation_id) == ("complete", None)
    assert api.process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises the signal


def test_sigterm_mid_batch_the_worker_finishes_its_claimed_mail_and_exits(
    server: Server, db: Database, tmp_path: Path
) -> None:
    port, maildir, batch, grace = free_port(), tmp_path / "relay", 6, 15
    prefix = f"drain-{secrets.token_hex(4)}-"
    for i in range(batch):
        signup(server, db, email=f"{prefix}{i}@example.com", verify=False)
    env = {
        **server.env,
        "SMTP_URL": f"smtp://127.0.0.1:{port}",
        "EMAIL_BATCH_SIZE": str(batch),
        "EMAIL_LEASE_SECONDS": "120",  # a killed batch would stay leased for two minutes
        "SMTP_TIMEOUT_SECONDS": "5",
        "WORKER_POLL_SECONDS": "0.2",
        "SHUTDOWN_GRACE_SECONDS": str(grace),
    }
    sink_log, worker_log = (tmp_path / "sink.log").open("ab"), tmp_path / "worker.log"
    sink = subprocess.Popen(  # 0.5 s per message: SIGTERM lands with the batch half sent
        [sys.executable, "-m", "tests.faults.smtp_sink", str(port), str(maildir), "0.5"],
        cwd=ROOT,
        env=env,
        stdout=sink_log,
        stderr=subprocess.STDOUT,
    )
    with worker_log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "app", "worker", "--jobs", "deliver_email"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def leased() -> set[str]:
        """Rows claimed and not yet sent (the batch may hold other tests' queued mail too)."""
        return {
            str(row[0])
            for row in db.rows(
                "SELECT id FROM email_outbox WHERE status = 'pending' AND locked_until > now()"
            )
        }

    try:
        deadline = time.monotonic() + 60
        while len(list(maildir.glob("*.eml"))) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        leased_at_sigterm = leased()
        assert leased_at_sigterm, "SIGTERM must land with a claimed batch"
        worker.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        worker.wait(timeout=grace + SLACK_SECONDS)
        exited_after = time.monotonic() - signalled
    finally:
        for process in (worker, sink):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    assert worker.returncode == 0, worker_log.read_text()[-2000:]
    assert leased() == set(), "the worker left claimed rows leased"
    statuses = db.rows(
        "SELECT status::text, count(*) FROM email_outbox WHERE id::text = ANY(%s) GROUP BY 1",
        sorted(leased_at_sigterm),
    )
    assert statuses == [("sent", len(leased_at_sigterm))], statuses
    events = [json.loads(line).get("event") for line in worker_log.read_text().splitlines()]
    assert "worker draining" in events
    assert "worker stopped" in events
    print(  # noqa: T201 - figures for docs/reliability.md
        f"worker drain: leased_at_sigterm={len(leased_at_sigterm)} left_leased=0 "
        f"sent={len(leased_at_sigterm)}/{len(leased_at_sigterm)} exited_after={exited_after:.1f}s"
    )
