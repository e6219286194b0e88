"""Files: upload (streamed, sniffed, quota-checked), list, read, delete, download.

An upload holds no database connection while its body arrives (docs/decisions/0014): the
request's transaction authenticates and reads the quota, then commits early, giving its
connection back; the body streams to a temporary file and to storage; a second short
transaction authenticates the same credential again, re-checks permission and quota under the
workspace's quota lock, and writes the row. Concurrent uploads are capped per user and per
workspace (``upload_slots``).

Visibility first, then permission, as everywhere: a file in a workspace the caller cannot read
files in is *missing* (404); one it can read but may not change is *forbidden* (403). Only
``clean`` files can be downloaded or reach the bot; ``pending_scan`` and ``infected`` ones answer
409 ``file_not_clean``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import anyio.to_thread
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.core.config import Settings
from app.core.db import commit_early
from app.core.errors import Forbidden, NotFound
from app.core.pagination import PageParams
from app.files.errors import (
    AttachmentNotReady,
    FileNotReady,
    QuotaExceeded,
    StorageUnavailable,
    UploadTooLarge,
)
from app.files.filenames import extension_of
from app.files.models import File, FileScanJob, FileStatus
from app.files.repository import FileRepository, FileScanJobRepository, MessageFileRepository
from app.files.schemas import FileList, FileRead
from app.files.sniffing import Limits, sniff
from app.files.storage import Storage, StorageError
from app.files.upload import ReceivedUpload, received_upload
from app.files.upload_slots import UploadSlots
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.workspaces import service as workspace_service
from app.workspaces.access import AccessibleWorkspaceID

log = structlog.get_logger()
SCANNER_DISABLED = "disabled"


def _storage_unavailable() -> StorageUnavailable:
    return StorageUnavailable("File storage is unavailable; try again shortly.")


def storage_key(workspace_id: AccessibleWorkspaceID) -> str:
    """``{workspace_id}/{random}``: nothing from the client, nothing guessable."""
    return f"{workspace_id}/{uuid.uuid4().hex}"


async def upload_file(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    storage: Storage,
    *,
    slots: UploadSlots,
    reauthenticate: Callable[[], Awaitable[Principal]],
    workspace_id: uuid.UUID,
    content_type: str,
    body: AsyncIterator[bytes],
) -> File:
    """Receive, check and store one upload; the scan job is written in the same transaction.

    ``reauthenticate`` resolves the request's credential again inside the session's current
    transaction (binding its RLS context): the record is written by whoever the caller is *then*.
    """
    ws = _writable(principal, workspace_id)
    remaining = settings.file_workspace_quota_bytes - await FileRepository(session).used_bytes(ws)
    if remaining <= 0:
        raise QuotaExceeded("This workspace has used its storage quota.")
    limit = min(settings.max_upload_body_bytes, remaining)
    # Nothing pinned while the client sends: the connection goes back to the pool here.
    await commit_early(session)
    async with slots.hold(principal.user_id, ws):
        try:
            async with received_upload(body, content_type=content_type, limit=limit) as upload:
                key, detected = await _store(settings, storage, ws, upload)
                try:
                    current = await reauthenticate()
                    return await _record(
                        session,
                        current,
                        settings,
                        _writable(current, workspace_id),
                        key=key,
                        content_type=detected,
                        upload=upload,
                    )
                except BaseException:
                    # Nothing half-stored: the object goes if its row does not get written.
                    with anyio.CancelScope(shield=True):
                        await _delete_quietly(storage, key)
                    raise
        except UploadTooLarge:
            if limit < settings.max_upload_body_bytes:
                raise QuotaExceeded(
                    "The file does not fit in this workspace's storage quota."
                ) from None
            raise


def _writable(principal: Principal, workspace_id: uuid.UUID) -> AccessibleWorkspaceID:
    return workspace_service.require_collection(
        principal,
        workspace_id,
        WorkspacePermission.FILES_WRITE,
        visible_with=WorkspacePermission.FILES_READ,
    )


async def _store(
    settings: Settings, storage: Storage, ws: AccessibleWorkspaceID, upload: ReceivedUpload
) -> tuple[str, str]:
    """Decide the type from the bytes and put them in storage: (storage key, content type)."""
    detected = await anyio.to_thread.run_sync(
        functools.partial(
            sniff,
            upload.path,
            size=upload.size,
            extension=extension_of(upload.display_name),
            declared=upload.declared_type,
            limits=Limits(
                archive_max_entries=settings.file_archive_max_entries,
                archive_max_expanded_bytes=settings.file_archive_max_expanded_bytes,
            ),
        )
    )
    key = storage_key(ws)
    try:
        await storage.put(key, upload.path, content_type=detected)
    except StorageError:
        log.warning("file storage put failed", backend=storage.name)
        raise _storage_unavailable() from None
    return key, detected


async def _record(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    ws: AccessibleWorkspaceID,
    *,
    key: str,
    content_type: str,
    upload: ReceivedUpload,
) -> File:
    files = FileRepository(session)
    used = await files.lock_quota(ws)  # concurrent uploads to this workspace queue here
    if used + upload.size > settings.file_workspace_quota_bytes:
        raise QuotaExceeded("The file does not fit in this workspace's storage quota.")
    disabled = settings.scanner_disabled
    file = await files.create(
        File(
            id=uuid.uuid4(),
            workspace_id=ws,
            uploaded_by_id=principal.user_id,
            display_name=upload.display_name,
            content_type=content_type,
            size_bytes=upload.size,
            sha256=upload.sha256,
            storage_key=key,
            status=FileStatus.CLEAN if disabled else FileStatus.PENDING_SCAN,
            scan_engine=SCANNER_DISABLED if disabled else None,
            scanned_at=datetime.now(UTC) if disabled else None,
        )
    )
    if not disabled:
        await FileScanJobRepository(session).create(
            FileScanJob(id=uuid.uuid4(), file_id=file.id, workspace_id=ws, attempts=0)
        )
    await audit.record(
        session,
        "file.uploaded",
        principal=principal,
        workspace_id=ws,
        target_type="file",
        target_id=file.id,
        details={"content_type": content_type, "size_bytes": upload.size},
    )
    return file


async def _delete_quietly(storage: Storage, key: str) -> None:
    try:
        await storage.delete(key)
    except StorageError:
        log.warning("file storage cleanup failed", backend=storage.name)


async def list_files(
    session: AsyncSession, principal: Principal, workspace_id: uuid.UUID, params: PageParams
) -> FileList:
    ws = workspace_service.require_collection(
        principal,
        workspace_id,
        WorkspacePermission.FILES_READ,
        visible_with=WorkspacePermission.FILES_READ,
    )
    page = await FileRepository(session).list_in(principal, ws, params)
    return FileList(items=[FileRead.of(f) for f in page.items], next_cursor=page.next_cursor)


async def get_file(session: AsyncSession, principal: Principal, file_id: uuid.UUID) -> File:
    """A file the caller may read; another workspace's file is simply not found."""
    file = await FileRepository(session).get_readable(principal, file_id)
    if file is None:
        raise NotFound()
    return file


def can_delete(principal: Principal, file: File) -> bool:
    """May the caller delete this file? Its uploader (with files.write), or a workspace admin."""
    if not principal.can(file.workspace_id, WorkspacePermission.FILES_WRITE):
        return False
    return file.uploaded_by_id == principal.user_id or principal.can(
        file.workspace_id, WorkspacePermission.MEMBERS_MANAGE
    )


async def delete_file(
    session: AsyncSession, principal: Principal, storage: Storage, file_id: uuid.UUID
) -> None:
    """Delete the row (its attachments and scan job cascade) and then the stored bytes; if
    storage refuses, the transaction rolls back and the file stays whole (503)."""
    file = await get_file(session, principal, file_id)
    if not can_delete(principal, file):
        raise Forbidden("Only the uploader or a workspace admin deletes a file.")
    key = file.storage_key
    await FileRepository(session).delete(file)
    await audit.record(
        session,
        "file.deleted",
        principal=principal,
        workspace_id=file.workspace_id,
        target_type="file",
        target_id=file_id,
    )
    try:
        await storage.delete(key)
    except StorageError:
        log.warning("file storage delete failed", backend=storage.name)
        raise _storage_unavailable() from None


@dataclass(frozen=True)
class Download:
    file: File
    chunks: AsyncIterator[bytes]


async def open_download(
    session: AsyncSession, principal: Principal, storage: Storage, file_id: uuid.UUID
) -> Download:
    """A clean file's bytes. The first chunk is read here, so a storage failure is a clean 503
    before any response header is sent."""
    file = await get_file(session, principal, file_id)
    if file.status is not FileStatus.CLEAN:
        raise FileNotReady(
            "The file is waiting for its malware scan."
            if file.status is FileStatus.PENDING_SCAN
            else "The file failed its malware scan and was removed."
        )
    chunks = storage.read(file.storage_key)
    try:
        first = await anext(chunks, b"")
    except StorageError:
        log.warning("file storage read failed", backend=storage.name)
        raise _storage_unavailable() from None

    async def stream() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return Download(file=file, chunks=stream())


async def check_attachments(
    session: AsyncSession,
    principal: Principal,
    workspace_id: AccessibleWorkspaceID,
    file_ids: Sequence[uuid.UUID],
) -> list[uuid.UUID]:
    """The ids to attach to a message in ``workspace_id``: each must be a file of *that*
    workspace the caller may read (else 404, like a random id: another workspace's file is not
    found) and clean (else 422 ``file_not_clean``). Checked before anything is stored."""
    unique = list(dict.fromkeys(file_ids))
    if not unique:
        return []
    files = await FileRepository(session).readable_in(principal, workspace_id, unique)
    if len(files) != len(unique):
        raise NotFound("One of the attached files was not found.")
    if any(file.status is not FileStatus.CLEAN for file in files):
        raise AttachmentNotReady("Attach files only once their malware scan has passed.")
    return unique


async def attach(
    session: AsyncSession,
    workspace_id: AccessibleWorkspaceID,
    message_id: uuid.UUID,
    file_ids: Sequence[uuid.UUID],
) -> None:
    if file_ids:
        await MessageFileRepository(session).attach(workspace_id, message_id, file_ids)
