"""C8: every upload is quarantined until a real clamd says it is clean; EICAR never gets out.

The server, the worker and clamd are real processes (tests/files/conftest.py); the test
signature database detects the EICAR test string anywhere in a stream.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.factories.files import png_bytes, upload_ok, wait_for_scan
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.files.conftest import Stack
from tests.scanner import EICAR, SIGNATURE
from tests.support import Database, Server

pytestmark = pytest.mark.checklist(
    "C8",
    red="make a file downloadable before clamd's clean verdict, keep or serve an infected one, or"
    " treat a scanner error as clean (app/files/jobs.py)",
)


def _stored_objects(storage_dir: Path, workspace_id: str) -> list[Path]:
    root = storage_dir / workspace_id
    return [p for p in root.iterdir() if p.is_file()] if root.exists() else []


def test_eicar_upload_ends_infected_and_is_never_downloadable(
    files_server: Server, db: Database, storage_dir: Path
) -> None:
    owner = create_actor(files_server, db, "eicar")
    ws = create_workspace(owner)
    # EICAR inside an otherwise plain text file: it passes type checks, so only the scan stops it.
    created = upload_ok(owner, ws, "notes.txt", b"meeting notes\n" + EICAR + b"\nend\n")
    assert created["status"] == "pending_scan"
    # Quarantined before the verdict: no download.
    early = owner.get(f"/v1/files/{created['id']}/content")
    assert early.status_code in (409,), early.text

    scanned = wait_for_scan(owner, created["id"])

    assert scanned["status"] == "infected", scanned
    assert scanned["scan_engine"].startswith("ClamAV")
    response = owner.get(f"/v1/files/{created['id']}/content")
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "file_not_clean"
    assert EICAR not in response.content
    # The bytes are gone from storage; the record stays.
    assert _stored_objects(storage_dir, ws) == []
    assert db.scalar("SELECT status::text FROM file WHERE id = %s", created["id"]) == "infected"
    # A security event in the audit log names the signature, never the content.
    details = db.scalar(
        "SELECT details::text FROM audit_event WHERE action = 'file.infected' AND target_id = %s",
        created["id"],
    )
    assert SIGNATURE in str(details)


def test_a_clean_upload_becomes_downloadable_only_after_its_scan(
    files_server: Server, db: Database
) -> None:
    owner = create_actor(files_server, db, "clean")
    ws = create_workspace(owner)
    data = png_bytes(4, 4)
    created = upload_ok(owner, ws, "pixel.png", data)
    assert created["status"] == "pending_scan"

    scanned = wait_for_scan(owner, created["id"])

    assert scanned["status"] == "clean", scanned
    response = owner.get(f"/v1/files/{created['id']}/content")
    assert response.status_code == 200, response.text
    assert response.content == data
    assert response.headers["content-type"] == "image/png"


def test_a_dead_scanner_leaves_files_pending_never_clean(own_db: Database, tmp_path: Path) -> None:
    """A worker whose clamd is unreachable records errors and retries; the file stays unusable."""
    from tests.files.conftest import start_worker
    from tests.support import base_env, free_port, start_server, stop_process, stop_server

    dead = f"tcp://127.0.0.1:{free_port()}"
    db = own_db
    env = base_env(
        db,
        CLAMD_URL=dead,
        SCANNER_DISABLED="false",
        STORAGE_LOCAL_DIR=str(tmp_path / "objects"),
        WORKER_POLL_SECONDS="0.2",
        CLAMD_TIMEOUT_SECONDS="1",
    )
    server = start_server(env, tmp_path / "server.log", ready_path="/healthz")
    metrics_port = free_port()
    worker = start_worker(server.env, tmp_path / "worker.log", metrics_port=metrics_port)
    try:
        # Uploads need the scanner, reads do not: the API stays ready, the report names it.
        assert httpx.get(server.url + "/readyz", timeout=10).status_code == 200
        report = httpx.get(server.url + "/readyz/dependencies", timeout=10)
        assert report.json()["dependencies"]["scanner"] == "down"
        assert dead not in report.text
        owner = create_actor(server, db, "deadscan")
        ws = create_workspace(owner)
        created = upload_ok(owner, ws, "a.txt", b"plain text\n")
        after = wait_for_scan(owner, created["id"], timeout=3)
        assert after["status"] == "pending_scan"
        assert owner.get(f"/v1/files/{created['id']}/content").status_code == 409
        deadline = time.monotonic() + 20  # the worker's first rounds, on a busy machine
        while True:
            row = db.rows(
                "SELECT attempts, last_error FROM file_scan_job WHERE file_id = %s", created["id"]
            )
            if row and row[0][1] is not None or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len(row) == 1
        attempts, last_error = row[0]
        assert attempts == 0  # an outage is no failed attempt: it never lengthens the backoff
        assert last_error == "scanner_unavailable"
        # The scanner-down alert's input (infra/prometheus/alerts.yml) reports it.
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        assert "launchproof_scanner_up 0.0" in metrics
        assert 'launchproof_file_scans_total{outcome="error"}' in metrics
    finally:
        stop_process(worker)
        stop_server(server)


def test_the_worker_reports_a_live_scanner_between_uploads(files_stack: Stack) -> None:
    """The idle worker PINGs clamd, so the scanner-down alert does not fire on a quiet day."""
    url = f"http://127.0.0.1:{files_stack.worker_metrics_port}/metrics"
    deadline = time.monotonic() + 30
    while True:
        try:
            text = httpx.get(url, timeout=5).text
        except httpx.HTTPError:
            text = ""
        if "launchproof_scanner_up 1.0" in text or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "launchproof_scanner_up 1.0" in text
