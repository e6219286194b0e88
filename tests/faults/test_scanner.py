"""clamd down and back, with files pending: every file reaches its verdict, nothing 500s.

A private clamd (tests/scanner.py, EICAR-only signatures) is stopped while uploads arrive and
started again on the same port after an outage long enough for the scan backoff to matter.
The API and the worker are real processes; the database is observed as its superuser.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories.files import upload
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.files.conftest import scanning_env, start_worker
from tests.scanner import EICAR, Clamd, start_clamd, stop_clamd
from tests.support import (
    Database,
    migrated_database,
    start_server,
    stop_process,
    stop_server,
)

OUTAGE_SECONDS = 20
RECOVERY_BOUND_SECONDS = 12


@pytest.fixture
def private_clamd(tmp_path: Path) -> Iterator[Clamd]:
    daemon = start_clamd(tmp_path / "clamd")
    yield daemon
    if daemon.process.poll() is None:
        stop_clamd(daemon)


def test_clamd_down_and_back_every_file_gets_its_verdict(
    private_clamd: Clamd, tmp_path: Path
) -> None:
    statuses: list[int] = []

    def record(response: httpx.Response) -> httpx.Response:
        statuses.append(response.status_code)
        return response

    with migrated_database() as db:
        env = scanning_env(db, private_clamd, tmp_path / "objects", CLAMD_TIMEOUT_SECONDS="2")
        server = start_server(env, tmp_path / "server.log")
        worker = start_worker(server.env, tmp_path / "worker.log")
        clamd = private_clamd
        try:
            owner = create_actor(server, db, "scan-outage")
            ws = create_workspace(owner)
            before = record(upload(owner, ws, "before.txt", b"scanned before\n")).json()
            assert _wait_terminal(db, ws, timeout=30) == 0
            stop_clamd(clamd)
            outage_started = time.monotonic()

            uploaded: dict[str, str] = {}
            for i in range(6):
                infected = i % 3 == 0
                data = b"notes\n" + EICAR + b"\n" if infected else f"clean {i}\n".encode()
                response = record(upload(owner, ws, f"f{i}.txt", data, "text/plain"))
                assert response.status_code == 201, response.text
                uploaded[response.json()["id"]] = "infected" if infected else "clean"
            while time.monotonic() - outage_started < OUTAGE_SECONDS:
                for file_id in uploaded:  # pending files are refused, never a server error
                    response = record(owner.get(f"/v1/files/{file_id}/content"))
                    assert response.status_code == 409, response.text
                assert record(owner.get(f"/v1/files/{before['id']}/content")).status_code == 200
                assert worker.poll() is None, "the worker died during the outage"
                time.sleep(1)
            assert _pending(db, ws) == len(uploaded)  # an error is never a verdict

            clamd = start_clamd(clamd.state, port=clamd.port)
            back = time.monotonic()
            left = _wait_terminal(db, ws, timeout=RECOVERY_BOUND_SECONDS)
            assert left == 0, f"{left} files still pending {RECOVERY_BOUND_SECONDS}s after clamd"
            recovered = time.monotonic() - back
            verdicts = dict(
                db.rows("SELECT id::text, status::text FROM file WHERE workspace_id = %s", ws)
            )
            assert {k: verdicts[k] for k in uploaded} == uploaded
            assert db.scalar("SELECT count(*) FROM file_scan_job") == 0
            for file_id, verdict in uploaded.items():
                response = record(owner.get(f"/v1/files/{file_id}/content"))
                assert response.status_code == (200 if verdict == "clean" else 409)
            assert worker.poll() is None, "the worker died"
            assert [s for s in statuses if s >= 500 and s != 503] == []
            print(f"clamd outage {OUTAGE_SECONDS}s: all verdicts {recovered:.1f}s after return")  # noqa: T201
        finally:
            stop_process(worker)
            stop_server(server)
            if clamd.process.poll() is None:
                stop_clamd(clamd)
        assert "Traceback" not in (tmp_path / "worker.log").read_text(errors="replace")


def _pending(db: Database, ws: str) -> int:
    return int(
        db.scalar(
            "SELECT count(*) FROM file WHERE workspace_id = %s AND status = 'pending_scan'", ws
        )
    )


def _wait_terminal(db: Database, ws: str, *, timeout: float) -> int:
    """Pending files left once none are, or when ``timeout`` is up."""
    deadline = time.monotonic() + timeout
    while (left := _pending(db, ws)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left
