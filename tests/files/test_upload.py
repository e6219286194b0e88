"""C8 over HTTP: what an upload must be, what it may be called, how large it may get, and how
it is served. Every refused upload leaves nothing behind: no row, no stored object."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from tests.factories.files import docx_bytes, pdf_bytes, png_bytes, upload, upload_ok, wait_for_scan
from tests.factories.users import create_actor
from tests.factories.workspaces import create_workspace
from tests.files.conftest import ARCHIVE_MAX_ENTRIES, ARCHIVE_MAX_EXPANDED, QUOTA, UPLOAD_LIMIT
from tests.servers import ServerFactory
from tests.support import Actor, Database, Server

pytestmark = pytest.mark.checklist(
    "C8",
    red="stop counting bytes while streaming (app/files/upload.py), skip the workspace quota or "
    "its lock, trust the client's content type, or serve a download inline without nosniff",
)

HTML = b"<!DOCTYPE html><html><body><script>fetch('/v1/me').then(r=>r.text()).then(alert)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="9"/></svg>'


@pytest.fixture
def owner(files_server: Server, db: Database) -> Actor:
    return create_actor(files_server, db, "uploader")


@pytest.fixture
def ws(owner: Actor) -> str:
    return create_workspace(owner)


def nothing_stored(db: Database, storage_dir: Path, ws: str) -> None:
    assert db.scalar("SELECT count(*) FROM file WHERE workspace_id = %s", ws) == 0
    root = storage_dir / ws
    assert not root.exists() or not any(root.iterdir())


def stray_temp_files() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("lp-upload-*")}


# --- Type from content ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        pytest.param("cat.png", HTML, "image/png", id="html-named-png"),
        pytest.param("cat.png", b"\n  " + HTML, "image/png", id="html-after-whitespace"),
        pytest.param("page.html", HTML, "text/html", id="html"),
        pytest.param("logo.svg", SVG, "image/svg+xml", id="svg"),
        pytest.param("logo.png", SVG, "image/png", id="svg-named-png"),
        pytest.param("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200, "", id="exe"),
        pytest.param(
            "a.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "text/plain", id="elf-as-txt"
        ),
        pytest.param("bundle.zip", b"PK\x03\x04" + b"\x00" * 100, "application/zip", id="zip"),
        pytest.param("empty.txt", b"", "text/plain", id="empty"),
    ],
)
def test_types_off_the_allowlist_are_refused_from_their_bytes(
    owner: Actor, ws: str, db: Database, storage_dir: Path, name: str, data: bytes, declared: str
) -> None:
    response = upload(owner, ws, name, data, declared)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unsupported_file_type"
    nothing_stored(db, storage_dir, ws)


@pytest.mark.parametrize(
    ("name", "data", "declared"),
    [
        pytest.param("report.png", pdf_bytes(), "application/pdf", id="pdf-named-png"),
        pytest.param("photo.png", png_bytes(), "application/pdf", id="png-declared-pdf"),
        pytest.param("notes.html", b"just words\n", "text/plain", id="text-named-html"),
        pytest.param("data.json", b"{not json", "application/json", id="broken-json"),
        pytest.param("doc.pdf", docx_bytes(["hi"]), "", id="docx-named-pdf"),
    ],
)
def test_claims_that_contradict_the_bytes_are_refused(
    owner: Actor, ws: str, db: Database, storage_dir: Path, name: str, data: bytes, declared: str
) -> None:
    response = upload(owner, ws, name, data, declared)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "file_type_mismatch"
    nothing_stored(db, storage_dir, ws)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("pixel.png", png_bytes(), "image/png"),
        ("report.pdf", pdf_bytes(), "application/pdf"),
        ("notes.md", b"# Title\n\nSome *markdown*.\n", "text/markdown"),
        ("table.csv", b"a,b\n1,2\n", "text/csv"),
        ("data.json", b'{"a": [1, 2]}', "application/json"),
        ("plain", "Grüße, 你好\n".encode(), "text/plain"),
        (
            "letter.docx",
            docx_bytes(["Dear reader"]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_allowed_types_are_recognised_whatever_the_client_claims(
    owner: Actor, ws: str, name: str, data: bytes, expected: str
) -> None:
    created = upload_ok(owner, ws, name, data, "application/octet-stream")
    assert created["content_type"] == expected
    assert created["size_bytes"] == len(data)
    assert created["status"] == "pending_scan"


def test_archives_are_opened_only_within_limits(
    owner: Actor, ws: str, db: Database, storage_dir: Path
) -> None:
    many = docx_bytes(["x"], extra_entries=ARCHIVE_MAX_ENTRIES + 1)
    bomb = docx_bytes(["x"], padding=ARCHIVE_MAX_EXPANDED + 1)
    assert len(bomb) < 64 * 1024  # small on the wire, large when expanded
    for name, data in (("many.docx", many), ("bomb.docx", bomb)):
        response = upload(owner, ws, name, data)
        assert response.status_code == 415, response.text
        assert "Archive refused" in response.json()["detail"]
    nothing_stored(db, storage_dir, ws)


# --- Names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\system32\\evil.txt", "evil.txt"),
        ("/abs/path/notes.txt", "notes.txt"),
        ("invoice\u202etxt.exe.txt", "invoicetxt.exe.txt"),  # RIGHT-TO-LEFT OVERRIDE removed
        ("tab\tnul\x00esc\x1b.txt", "tabnulesc.txt"),
        ("..", "file"),
        (".hidden.txt", "hidden.txt"),
        ("a" * 500 + ".txt", "a" * 196 + ".txt"),
    ],
)
def test_filenames_are_display_only_and_neutralised(
    owner: Actor, ws: str, db: Database, storage_dir: Path, raw: str, expected: str
) -> None:
    # Built by hand: httpx would percent-encode CR, LF and NUL in the filename; an attacker won't.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="'
        + raw.replace('"', "").encode()
        + b'"\r\nContent-Type: text/plain\r\n\r\nplain words\n\r\n--b--\r\n'
    )
    response = owner.post(
        f"/v1/workspaces/{ws}/files",
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        content=body,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["name"] == expected
    key = db.scalar("SELECT storage_key FROM file WHERE id = %s", created["id"])
    assert key.startswith(f"{ws}/")
    assert expected not in key  # the key is random, not the name
    assert "passwd" not in key
    stored = [p for p in storage_dir.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(storage_dir.resolve()) for p in stored)
    assert not (storage_dir.parent / "etc").exists()


# --- Sizes, quota, rate --------------------------------------------------------------------


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n'
    sent = 0
    while sent < total:
        yield b"a" * size
        sent += size
    yield b"\r\n--b--\r\n"


def test_an_oversized_upload_is_cut_at_the_limit_with_413(
    owner: Actor, ws: str, db: Database, storage_dir: Path, files_server: Server
) -> None:
    before = stray_temp_files()
    # Declared too large: refused before a byte of the body is read.
    declared = upload(owner, ws, "big.txt", b"a" * (UPLOAD_LIMIT + 1))
    assert declared.status_code == 413, declared.text
    # Chunked (no Content-Length): refused while streaming, as soon as the count passes the cap.
    streamed = httpx.post(
        f"{files_server.url}/v1/workspaces/{ws}/files",
        headers=owner.headers({"Content-Type": "multipart/form-data; boundary=b"}),
        content=_chunks(8 * UPLOAD_LIMIT),
        timeout=30,
    )
    assert streamed.status_code == 413, streamed.text
    assert streamed.headers["content-type"].startswith("application/problem+json")
    nothing_stored(db, storage_dir, ws)
    assert stray_temp_files() <= before


def test_the_workspace_quota_answers_413(
    owner: Actor, ws: str, db: Database, storage_dir: Path
) -> None:
    part = b"q" * (UPLOAD_LIMIT - 4096)
    stored = 0
    while stored + len(part) <= QUOTA:
        upload_ok(owner, ws, f"part{stored}.txt", part)
        stored += len(part)
    response = upload(owner, ws, "over.txt", part)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "quota_exceeded"
    used = db.scalar("SELECT sum(size_bytes) FROM file WHERE workspace_id = %s", ws)
    assert used == stored <= QUOTA
    # Another workspace of the same owner has its own quota.
    other = create_workspace(owner, name="Second")
    upload_ok(owner, other, "fits.txt", part)


@pytest.mark.checklist("C6", red="remove the per-user upload budget from the upload route")
def test_uploads_are_rate_limited_per_user(
    server_factory: ServerFactory, db: Database, tmp_path: Path
) -> None:
    from tests.support import base_env

    with server_factory(
        base_env(db, RATE_LIMIT_UPLOAD="2/minute", STORAGE_LOCAL_DIR=str(tmp_path / "objects")),
        log_path=tmp_path / "server.log",
    ) as server:
        actor = create_actor(server, db, "ratelimited")
        ws = create_workspace(actor)
        for index in range(2):
            upload_ok(actor, ws, f"n{index}.txt", b"words\n")
        response = upload(actor, ws, "n3.txt", b"words\n")
        assert response.status_code == 429, response.text
        assert int(response.headers["retry-after"]) > 0
        # Spoofed forwarding headers do not buy a new budget.
        spoofed = upload(
            actor, ws, "n4.txt", b"words\n", headers={"X-Forwarded-For": "203.0.113.9"}
        )
        assert spoofed.status_code == 429
        assert db.scalar("SELECT count(*) FROM file WHERE workspace_id = %s", ws) == 2


# --- Malformed bodies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("application/json", b'{"file": "x"}', id="json"),
        pytest.param("multipart/form-data", b"--b\r\n", id="no-boundary"),
        pytest.param(
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="file"\r\n\r\nx\r\n--b--\r\n',
            id="no-filename",
        ),
        pytest.param(
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="other"; filename="a.txt"\r\n\r\n'
            b"x\r\n--b--\r\n",
            id="wrong-field",
        ),
        pytest.param(
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nx\r\n'
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="b.txt"\r\n\r\ny\r\n'
            b"--b--\r\n",
            id="two-files",
        ),
        pytest.param(
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nxyz',
            id="truncated",
        ),
    ],
)
def test_malformed_uploads_get_a_clear_4xx(
    owner: Actor, ws: str, db: Database, storage_dir: Path, content_type: str, body: bytes
) -> None:
    response = owner.post(
        f"/v1/workspaces/{ws}/files", headers={"Content-Type": content_type}, content=body
    )
    assert response.status_code in (415, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    nothing_stored(db, storage_dir, ws)


# --- Serving -------------------------------------------------------------------------------


def test_downloads_are_attachments_that_cannot_execute(owner: Actor, ws: str) -> None:
    """Text that contains markup (not at its start, so it is inert text) is served as an
    attachment, as text/plain, never sniffed, inside a sandbox, never cached."""
    data = b"Notes\n<script>alert(document.cookie)</script>\n<img src=x onerror=alert(1)>\n"
    name = "Ünïcødé résumé; a,b (1).txt"
    created = upload_ok(owner, ws, name, data, "text/plain")
    assert created["content_type"] == "text/plain"
    assert wait_for_scan(owner, created["id"])["status"] == "clean"

    response = owner.get(f"/v1/files/{created['id']}/content")

    assert response.status_code == 200, response.text
    assert response.content == data
    headers = response.headers
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "private, no-store"
    csp = headers["content-security-policy"]
    assert "sandbox" in csp
    assert "default-src 'none'" in csp
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition
    assert "\n" not in disposition
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii()
    assert '"' not in fallback
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == created["name"] == name


def test_files_are_listed_and_deleted_with_their_bytes(
    owner: Actor, ws: str, db: Database, storage_dir: Path
) -> None:
    created = upload_ok(owner, ws, "a.png", png_bytes())
    listed = owner.get(f"/v1/workspaces/{ws}/files").json()["items"]
    assert [f["id"] for f in listed] == [created["id"]]
    assert any((storage_dir / ws).iterdir())

    deleted = owner.delete(f"/v1/files/{created['id']}")

    assert deleted.status_code == 204, deleted.text
    assert owner.get(f"/v1/files/{created['id']}").status_code == 404
    assert owner.get(f"/v1/files/{created['id']}/content").status_code == 404
    nothing_stored(db, storage_dir, ws)


def test_concurrent_uploads_cannot_overrun_the_quota_together(
    owner: Actor, ws: str, db: Database, storage_dir: Path
) -> None:
    """Five uploads race for room for three: the quota decision is serialised per workspace
    (an advisory lock in the upload's transaction), so exactly three land."""
    from concurrent.futures import ThreadPoolExecutor

    part = b"c" * (UPLOAD_LIMIT - 4096)
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda i: upload(owner, ws, f"r{i}.txt", part), range(5)))

    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 201, 201, 413, 413], [r.text for r in responses]
    assert db.scalar("SELECT sum(size_bytes) FROM file WHERE workspace_id = %s", ws) <= QUOTA
    # The losers' objects were removed again: storage holds exactly the three recorded files.
    assert len([p for p in (storage_dir / ws).iterdir() if p.is_file()]) == 3


@pytest.mark.checklist("C5", red="accept multipart uploads without the exact-Origin CSRF check")
def test_cookie_uploads_from_another_site_are_refused(
    owner: Actor, ws: str, db: Database, storage_dir: Path
) -> None:
    """Multipart is accepted on the upload route only, and only after the exact-Origin check
    every cookie-borne write passes: a cross-site form cannot upload."""
    evil = upload(owner, ws, "a.txt", b"words\n", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403, evil.text
    assert evil.json()["code"] == "csrf_origin_mismatch"
    elsewhere = owner.post("/v1/workspaces", files={"file": ("a.txt", b"x", "text/plain")})
    assert elsewhere.status_code == 415, elsewhere.text
    assert elsewhere.json()["code"] == "json_required"
    nothing_stored(db, storage_dir, ws)
