"""Wire shapes of the files API (uploads are multipart; these are the answers)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.files.models import File, FileStatus


class FileRead(BaseModel):
    """A file's metadata. ``content_type`` was decided from the bytes; ``name`` is display-only.

    ``status``: ``pending_scan`` (unusable until scanned), ``clean``, or ``infected`` (the bytes
    were deleted; this record stays). ``scan_engine`` names the scanner, or ``disabled`` when a
    development server runs without one.
    """

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    status: FileStatus
    scan_engine: str | None
    scanned_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, file: File) -> FileRead:
        return cls(
            id=file.id,
            workspace_id=file.workspace_id,
            name=file.display_name,
            content_type=file.content_type,
            size_bytes=file.size_bytes,
            sha256=file.sha256,
            status=file.status,
            scan_engine=file.scan_engine,
            scanned_at=file.scanned_at,
            created_at=file.created_at,
        )


class FileList(BaseModel):
    items: list[FileRead]
    next_cursor: str | None
