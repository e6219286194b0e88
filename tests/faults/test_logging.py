"""Canaries in crashing processes: nothing planted reaches any process output or Sentry.

Real faults, no mock of project code: as the database superuser the test revokes a privilege
the app role needs, mid-way through the work, so the code raises while its local variables hold
the planted values, then restores it.

* A crashing request: a chat message sent with an API key (``INSERT`` on ``message`` revoked)
  and a login (``INSERT`` on ``user_session`` revoked, after the password was checked).
* A handled provider error (the model stub answers 500 to a message holding planted text): a
  designed answer, so no Sentry event at all (no SDK integration reports it on its own).
* A crashing CLI command (``create-user`` and ``migrate`` with the database unreachable, the
  worker with a setting it cannot parse): JSON lines, no password, no rejected input.
* A crashing worker job: a webhook delivery to a hostile receiver that echoes planted values in
  its answer, while ``INSERT`` on ``webhook_delivery_attempt`` is revoked. The delivery's frames
  hold the endpoint's decrypted signing secret, the signed headers and the payload.

Both processes run with ``SENTRY_DSN`` pointing at a receiver on loopback (the real SDK). Then:
no planted value in the API's or the worker's stdout/stderr or in any envelope, every output
line is a JSON object, no traceback text and no local variables anywhere.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.factories.bots import create_bot
from tests.factories.conversations import start_conversation
from tests.factories.users import create_actor, login, strong_password, unique_email
from tests.factories.workspaces import create_api_key, create_workspace
from tests.observability.sentry_receiver import SentryReceiver
from tests.servers import ServerFactory
from tests.support import (
    ROOT,
    Actor,
    Database,
    Server,
    Stub,
    base_env,
    free_port,
    run_cli,
    stop_process,
)
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.checklist(
    "C9",
    red="let a crashing request, CLI command or worker job print its exception text or local "
    "variables unredacted, or report them to Sentry",
)

# What rich, better-exceptions or Python's own traceback print; none belongs in a JSON log.
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "╭", "│", "locals", '"vars"')


@pytest.fixture(scope="module")
def sentry() -> Iterator[SentryReceiver]:
    with SentryReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def app_server(
    server_factory: ServerFactory,
    db: Database,
    stub: Stub,
    sentry: SentryReceiver,
) -> Iterator[Server]:
    env = base_env(
        db,
        OPENAI_BASE_URL=stub.base_url,
        OUTBOUND_DEV_ALLOWED_ADDRESSES="127.0.0.1",
        SENTRY_DSN=sentry.dsn,
        WORKER_POLL_SECONDS="0.2",
        WEBHOOK_LEASE_SECONDS="30",
    )
    with server_factory(env, name="canary") as server:
        yield server


@contextmanager
def revoked(db: Database, privilege: str, table: str) -> Iterator[None]:
    """The app role loses ``privilege`` on ``table`` (a genuine fault), restored afterwards."""
    role = sql.Identifier(str(make_url(db.app).username))
    with db.connect() as conn:
        conn.execute(
            sql.SQL("REVOKE {} ON {} FROM {}").format(
                sql.SQL(privilege), sql.Identifier(table), role
            )
        )
    try:
        yield
    finally:
        with db.connect() as conn:
            conn.execute(
                sql.SQL("GRANT {} ON {} TO {}").format(
                    sql.SQL(privilege), sql.Identifier(table), role
                )
            )


def assert_clean_sentry(text: str, planted: dict[str, str]) -> None:
    """Envelopes: no planted value, no frame variables (source lines may say anything)."""
    leaked = sorted(name for name, value in planted.items() if value in text)
    assert leaked == [], f"Sentry: planted values in the envelopes: {leaked}"
    assert '"vars"' not in text


def assert_clean_output(label: str, text: str, planted: dict[str, str]) -> None:
    leaked = sorted(name for name, value in planted.items() if value in text)
    assert leaked == [], f"{label}: planted values in the output: {leaked}"
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"{label}: {marker!r} in the output"
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            parsed = json.loads(line)
        except ValueError:
            raise AssertionError(f"{label}: line {number} is not JSON: {line[:300]!r}") from None
        assert isinstance(parsed, dict), f"{label}: line {number} is not a JSON object"


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def exception_lines(text: str) -> list[str]:
    """Lines reporting an exception, JSON or not (the assertions judge their form later)."""
    return [line for line in text.splitlines() if "exception" in line or "Error" in line]


def test_a_crashing_request_leaks_no_canary(
    app_server: Server, db: Database, sentry: SentryReceiver
) -> None:
    owner = create_actor(app_server, db, "canary-owner")
    workspace_id = create_workspace(owner, "Canary")
    bot = create_bot(owner, workspace_id)
    conversation_id = str(start_conversation(owner, bot["id"])["id"])
    api_key = str(create_api_key(owner, workspace_id, ["conversations:write"])["key"])
    email, password = unique_email("canary"), "pw-canary-" + strong_password()
    result = run_cli(app_server.env, "create-user", "--email", email, "--verified", stdin=password)
    assert result.returncode == 0, result.stderr
    login(app_server, email, password)  # works before the fault
    planted = {
        "api key": api_key,
        "password": password,
        "message text": f"canarymessage{secrets.token_hex(8)} private words",
    }
    events_before = len(sentry.events())
    handled = httpx.post(
        f"{app_server.url}/v1/conversations/{conversation_id}/messages",
        json={"content": "[[fail:500]] " + planted["message text"]},
        headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
        timeout=30,
    )
    assert handled.status_code in (502, 503), handled.text

    with revoked(db, "INSERT", "message"):
        sent = httpx.post(
            f"{app_server.url}/v1/conversations/{conversation_id}/messages",
            json={"content": planted["message text"]},
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            timeout=30,
        )
    assert sent.status_code in (500, 503), sent.text
    with revoked(db, "INSERT", "user_session"):
        logged_in = Actor(app_server, email, password, "").post(
            "/v1/auth/login", json={"email": email, "password": password}
        )
    assert logged_in.status_code in (500, 503), logged_in.text
    wait_for(lambda: len(sentry.events()) >= events_before + 2, 20, "two Sentry events")
    time.sleep(1)  # the SDK sends in order: an event for the handled error would be here now
    new_events = sentry.events()[events_before:]
    assert len(new_events) == 2, [e.get("exception", {}).get("values") for e in new_events]

    log = app_server.log_text()
    assert_clean_output("API", log, planted)
    assert_clean_sentry(sentry.text(), planted)
    for body in (sent.text, logged_in.text):
        assert not any(value in body for value in planted.values())


def test_a_crashing_cli_command_leaks_no_canary(db: Database) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens: connecting fails at once
    db_password = "dbpw" + secrets.token_hex(10)
    password = "pw-canary-" + secrets.token_urlsafe(12)
    unparsable = "canarysetting" + secrets.token_hex(6)
    planted = {"database password": db_password, "password": password, "setting": unparsable}
    unreachable = base_env(
        db,
        DATABASE_URL=f"postgresql://launchproof_app:{db_password}@{closed}/x",
        DATABASE_MIGRATION_URL=f"postgresql://launchproof_owner:{db_password}@{closed}/x",
    )
    runs = {
        "create-user": run_cli(
            unreachable, "create-user", "--email", unique_email("cli"), stdin=password + "\n"
        ),
        "migrate": run_cli(unreachable, "migrate"),
        "worker": run_cli(base_env(db, WORKER_POLL_SECONDS=unparsable), "worker", "--once"),
    }
    for command, result in runs.items():
        assert result.returncode != 0, f"{command} did not fail"
        assert_clean_output(f"{command} stdout", result.stdout, planted)
        assert_clean_output(f"{command} stderr", result.stderr, planted)
        assert result.stdout == "", f"{command}: log lines belong on standard error"
        crashed = [json.loads(line) for line in result.stderr.splitlines()]
        assert any(line.get("event") == "uncaught exception" for line in crashed), command


def test_a_crashing_worker_job_leaks_no_canary(
    app_server: Server, db: Database, sentry: SentryReceiver, tmp_path: Path
) -> None:
    owner = create_actor(app_server, db, "canary-hooks")
    create_workspace(owner, "Canary hooks")
    planted = {
        "api key": "lpk_" + secrets.token_urlsafe(24),
        "password": "pw-canary-" + secrets.token_urlsafe(12),
        "message text": f"canaryreply{secrets.token_hex(8)} private words",
    }
    with Receiver() as receiver:
        created = owner.post(
            f"/v1/workspaces/{next(iter(owner.workspaces))}/webhook-endpoints",
            json={"url": receiver.url("/canary"), "event_types": ["conversation.created"]},
        )
        assert created.status_code == 201, created.text
        planted["signing secret"] = str(created.json()["secret"])
        # A hostile receiver: its answer (stored as the attempt's snippet) is planted text.
        echo = " ".join(planted[name] for name in ("message text", "api key", "password"))
        receiver.script("/canary", [(200, {}, echo.encode())] * 5)
        out_path, err_path = tmp_path / "worker.out", tmp_path / "worker.err"
        with revoked(db, "INSERT", "webhook_delivery_attempt"):
            queued = owner.post(f"/v1/webhook-endpoints/{created.json()['id']}/test")
            assert queued.status_code == 202, queued.text
            events_before = len(sentry.events())
            with out_path.open("wb") as out, err_path.open("wb") as err:
                worker = subprocess.Popen(
                    [sys.executable, "-m", "app", "worker", "--jobs", "deliver_webhooks"],
                    cwd=ROOT,
                    env=app_server.env,
                    stdout=out,
                    stderr=err,
                )
                try:
                    receiver.wait_for("/canary", 1, timeout=30)
                    wait_for(lambda: exception_lines(err_path.read_text()), 20, "the crash")
                    wait_for(lambda: len(sentry.events()) > events_before, 20, "a Sentry event")
                finally:
                    stop_process(worker)  # SIGTERM: the worker stops, the SDK flushes
        received = receiver.received("/canary")
    assert received[0].headers.get("webhook-signature")  # signed with the planted secret
    planted["signature"] = received[0].headers["webhook-signature"].split(",", 1)[-1]

    output = err_path.read_text()
    assert out_path.read_text() == "", "log lines belong on standard error"
    assert_clean_output("worker stderr", output, planted)
    assert_clean_sentry(sentry.text(), planted)
    crashed = [json.loads(line) for line in exception_lines(output)]
    # The delivery's crash is logged by class only (app/webhooks/jobs.py: its frames would sit
    # beside the secret and the payload); a crash that escapes a job is logged with structured
    # frames. Either way it is one JSON line that names what failed.
    assert any(
        line.get("event") == "webhook delivery crashed" and line.get("error") for line in crashed
    ), output[-2000:]
