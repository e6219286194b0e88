"""Files through the API, and small real documents of each allowed type built in memory."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from typing import Any

import httpx

from tests.support import Actor

TERMINAL = frozenset({"clean", "infected"})


def png_bytes(width: int = 1, height: int = 1) -> bytes:
    """A valid RGB PNG (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str = "Hello") -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
        b"% " + text.encode() + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def docx_bytes(paragraphs: list[str], *, extra_entries: int = 0, padding: int = 0) -> bytes:
    """A minimal Word document; ``extra_entries``/``padding`` build hostile archives."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            f'wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>',
        )
        for index in range(extra_entries):
            archive.writestr(f"word/media/part{index}.bin", b"x")
        if padding:
            archive.writestr("word/padding.bin", b"\0" * padding)  # compresses to almost nothing
    return buffer.getvalue()


def upload(
    actor: Actor,
    workspace_id: str,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    **kwargs: Any,
) -> httpx.Response:
    return actor.post(
        f"/v1/workspaces/{workspace_id}/files", files={"file": (name, data, content_type)}, **kwargs
    )


def upload_ok(
    actor: Actor,
    workspace_id: str,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    **kwargs: Any,
) -> dict[str, Any]:
    response = upload(actor, workspace_id, name, data, content_type, **kwargs)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def wait_for_scan(actor: Actor, file_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll until the worker has a verdict (clean or infected)."""
    deadline = time.monotonic() + timeout
    while True:
        response = actor.get(f"/v1/files/{file_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in TERMINAL or time.monotonic() > deadline:
            return body
        time.sleep(0.2)
