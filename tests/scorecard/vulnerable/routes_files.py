"""File upload, metadata and download, the way a first prototype does it.

The flaws: the whole multipart body is read, whatever its size, before anything is decided; the
type is whatever the client declared; nothing is scanned (EICAR is ``clean`` at once and
downloadable); downloads are served ``inline`` with the declared type, so an HTML upload runs as
a page of this origin; any signed-in user reads or deletes any file id.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from tests.scorecard.vulnerable.store import STORE, Record, next_id, now
from tests.scorecard.vulnerable.web import answer, caller, listed, lookup, removed

router = APIRouter()


@router.post("/v1/workspaces/{workspace_id}/files")
async def upload_file(workspace_id: str, request: Request) -> Response:
    caller(request)
    form = await request.form(max_part_size=2**40)
    part = form["file"]
    assert isinstance(part, UploadFile)  # a text field instead of a file: a 500
    content = await part.read()
    record: Record = {
        "id": next_id(),
        "workspace_id": workspace_id,
        "name": part.filename or "upload",
        "content_type": part.content_type or "application/octet-stream",
        "size_bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "status": "clean",  # never scanned
        "scan_engine": None,
        "scanned_at": None,
        "created_at": now(),
    }
    STORE.files[record["id"]] = record
    STORE.blobs[record["id"]] = content
    return answer(record, 201)


@router.get("/v1/workspaces/{workspace_id}/files")
async def list_files(workspace_id: str, request: Request) -> Response:
    caller(request)
    return listed(STORE.files, workspace_id)


@router.get("/v1/files/{file_id}")
async def get_file(file_id: str, request: Request) -> Response:
    caller(request)
    return answer(lookup(STORE.files, "file", file_id))


@router.delete("/v1/files/{file_id}")
async def delete_file(file_id: str, request: Request) -> Response:
    caller(request)
    STORE.blobs.pop(file_id, None)
    return removed(STORE.files, "file", file_id)


@router.get("/v1/files/{file_id}/content")
async def download_file(file_id: str, request: Request) -> Response:
    caller(request)
    record = lookup(STORE.files, "file", file_id)
    return Response(
        STORE.blobs[file_id],
        media_type=record["content_type"],
        headers={"Content-Disposition": f'inline; filename="{record["name"]}"'},
    )
