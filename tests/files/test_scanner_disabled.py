"""Development and tests may run without a scanner, explicitly: files then say so.

The shared test server runs with ``SCANNER_DISABLED=true`` (tests/support.py); production
refuses that setting (tests/core/test_config.py), and refuses to start without ``CLAMD_URL``.
"""

from __future__ import annotations

import pytest

from tests.factories.files import upload_ok
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.support import Database, Server

pytestmark = pytest.mark.checklist(
    "C8",
    red="mark an unscanned upload clean when SCANNER_DISABLED is set instead of saying "
    "scan_engine: disabled",
)


def test_unscanned_files_are_marked_as_such(server: Server, db: Database) -> None:
    owner = create_actor(server, db, "noscan")
    ws = create_workspace(owner)

    created = upload_ok(owner, ws, "a.txt", b"words\n")

    assert created["status"] == "clean"
    assert created["scan_engine"] == "disabled"
    assert db.scalar("SELECT count(*) FROM file_scan_job WHERE file_id = %s", created["id"]) == 0
    assert owner.get(f"/v1/files/{created['id']}/content").status_code == 200
