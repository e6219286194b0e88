"""Platform mail under SMTP faults: the relay down and back, the worker SIGKILLed mid-batch.

Real processes only: the API queues mail (sign-ups write verification mails to the outbox), the
worker is ``python -m app worker --jobs deliver_email``, the relay is an aiosmtpd sink in its own
process (tests/faults/smtp_sink.py, slow on purpose so a batch is half sent when the worker is
killed). The figures: mails queued vs delivered (equal), duplicates (allowed only with the same
Message-ID as the outbox row), rows left pending or failed (0), and every worker output line is
JSON without an address.
"""

from __future__ import annotations

import email
import email.policy
import json
import secrets
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.factories.users import signup
from tests.support import ROOT, Database, Server, free_port

QUEUED = 12


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def terminate(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def delivered(maildir: Path, prefix: str) -> dict[str, list[str]]:
    """Recipient -> Message-IDs of every copy the relay accepted (this test's recipients)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(maildir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        to = str(message.get("To", ""))
        if to.startswith(prefix):
            found[to].append(str(message.get("Message-ID", "")))
    return found


def test_relay_outage_and_worker_sigkill_lose_no_mail(
    server: Server, db: Database, tmp_path: Path
) -> None:
    port, maildir = free_port(), tmp_path / "relay"
    prefix = f"mailfault-{secrets.token_hex(4)}-"
    env = {
        **server.env,
        "SMTP_URL": f"smtp://127.0.0.1:{port}",
        "EMAIL_BATCH_SIZE": "4",
        "EMAIL_RETRY_BASE_SECONDS": "0.5",
        "EMAIL_RETRY_MAX_SECONDS": "1",
        # An outage outlasts any attempt budget: here two attempts, by default about an hour.
        "EMAIL_MAX_ATTEMPTS": "2",
        "EMAIL_LEASE_SECONDS": "5",
        "SMTP_TIMEOUT_SECONDS": "2",
        "WORKER_POLL_SECONDS": "0.2",
    }
    addresses = [
        signup(server, db, email=f"{prefix}{i}@example.com", verify=False)[0] for i in range(QUEUED)
    ]

    def rows() -> list[tuple[str, int, str | None]]:
        return [
            (str(r[0]), int(r[1]), r[2])
            for r in db.rows(
                "SELECT status, attempts, message_id FROM email_outbox "
                "WHERE to_address LIKE %s AND kind = 'verify_email'",
                prefix + "%",
            )
        ]

    assert len(rows()) == QUEUED
    worker_log, sink_log = tmp_path / "worker.log", tmp_path / "sink.log"
    worker_args = ["-m", "app", "worker", "--jobs", "deliver_email"]
    sink_args = ["-m", "tests.faults.smtp_sink", str(port), str(maildir)]

    # 1. The relay is down: every mail fails at least twice (more than EMAIL_MAX_ATTEMPTS).
    worker = start(worker_args, env, worker_log)
    sink: subprocess.Popen[bytes] | None = None
    try:
        wait_until(lambda: min(r[1] for r in rows()) >= 2, 60, "two failed attempts each")
        given_up = [r for r in rows() if r[0] != "pending"]
        assert given_up == [], f"mail given up during a relay outage: {len(given_up)} rows"
        # 2. The relay comes back, slowly; the worker is SIGKILLed with a batch half sent.
        sink = start([*sink_args, "0.4"], env, sink_log)
        wait_until(lambda: sum(map(len, delivered(maildir, prefix).values())) >= 2, 30, "mail")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        leased_at_kill = db.scalar(
            "SELECT count(*) FROM email_outbox WHERE to_address LIKE %s AND status = 'pending' "
            "AND locked_until > now()",
            prefix + "%",
        )
        # 3. The relay goes down again while a new worker starts, then comes back for good.
        terminate(sink)
        worker = start(worker_args, env, worker_log)
        time.sleep(2)
        sink = start([*sink_args, "0.05"], env, sink_log)
        wait_until(lambda: all(r[0] != "pending" for r in rows()), 90, "every mail sent or failed")
    finally:
        terminate(worker)
        if sink is not None:
            terminate(sink)

    final = rows()
    statuses = sorted({status for status, _, _ in final})
    assert statuses == ["sent"], f"rows not sent: {[r for r in final if r[0] != 'sent']}"
    copies = delivered(maildir, prefix)
    assert sorted(copies) == sorted(addresses), "queued vs delivered differ"
    outbox_ids = {
        str(r[0]): str(r[1])
        for r in db.rows(
            "SELECT to_address, message_id FROM email_outbox WHERE to_address LIKE %s",
            prefix + "%",
        )
    }
    for address, ids in copies.items():
        assert set(ids) == {outbox_ids[address]}, f"a duplicate with another Message-ID: {ids}"
    duplicates = sum(len(ids) - 1 for ids in copies.values())
    print(  # noqa: T201 - the figures for docs/reliability.md
        f"queued={QUEUED} delivered={len(copies)} duplicates={duplicates} "
        f"leased_at_kill={leased_at_kill}"
    )

    output = worker_log.read_text()
    assert "email delivery failed" in output
    for line in output.splitlines():
        assert isinstance(json.loads(line), dict), line[:300]
    assert not any(address in output for address in addresses)
