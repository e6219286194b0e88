"""The worker's scan job: pending uploads to clamd, then ``clean`` or ``infected``.

One round: claim due queue rows (``FOR UPDATE SKIP LOCKED``, leased) in a short transaction;
for each, read the file's key inside its one workspace (RLS bound with ``bind_worker_scope``),
stream the stored bytes to clamd with no transaction open, and record the verdict in another
short transaction. Infected files lose their bytes (deleted from storage first) and keep their
row as the record, with an audit event. Scanner or storage errors leave the file
``pending_scan`` and push the job back with exponential backoff: an error is never a verdict.
A scanner that cannot be reached at all is an outage, not a failing file: the batch is given back
with its attempts refunded and retried every ``SCANNER_DOWN_RETRY`` (the probe of the next round),
so files are scanned within seconds of clamd's return, however long it was away.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from app.audit import service as audit
from app.core.jobs import Job, WorkerContext
from app.core.metrics import FILE_SCANS, SCANNER_UP
from app.files.clamd import ClamdClient, ScannerError, ScannerUnavailable, ScanResult
from app.files.models import FileStatus
from app.files.repository import FileRepository, FileScanJobRepository
from app.files.scanning import scan_stored, scanner_client
from app.files.storage import Storage, StorageError, shared_storage
from app.identity.repository import PrincipalContextRepository
from app.webhooks.events import EventType, emit_event
from app.workspaces.access import AccessibleWorkspaceID

log = structlog.get_logger()
BATCH = 10
LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 3600.0
PROBE_EVERY_SECONDS = 15.0
SCANNER_DOWN_RETRY = timedelta(seconds=5)
_last_probe = float("-inf")


@dataclass(frozen=True)
class Claimed:
    job_id: uuid.UUID
    file_id: uuid.UUID
    workspace_id: AccessibleWorkspaceID
    attempts: int


def backoff(attempts: int) -> timedelta:
    return timedelta(
        seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS)
    )


async def scan_pending_files(context: WorkerContext) -> int:
    """One round of scans; returns how many files reached a verdict."""
    client = scanner_client(context.settings)
    if client is None:
        return 0
    now = datetime.now(UTC)
    async with context.sessionmaker() as session, session.begin():
        jobs = await FileScanJobRepository(session).claim_due(now, limit=BATCH, lease=LEASE)
        claimed = [
            Claimed(j.id, j.file_id, AccessibleWorkspaceID(j.workspace_id), j.attempts)
            for j in jobs
        ]
    if not claimed:
        await _probe_when_idle(client)
        return 0
    storage = shared_storage(context.settings)
    try:
        engine = await client.version()
        SCANNER_UP.set(1)
    except ScannerError:
        await _scanner_down(context, claimed)
        return 0
    done = 0
    for index, job in enumerate(claimed):
        try:
            done += await _scan_one(context, client, storage, engine, job)
        except ScannerUnavailable:
            await _scanner_down(context, claimed[index:])
            break
    return done


async def _scanner_down(context: WorkerContext, jobs: list[Claimed]) -> None:
    SCANNER_UP.set(0)
    FILE_SCANS.labels(outcome="error").inc(len(jobs))
    log.warning("scanner unavailable; scans postponed", jobs=len(jobs))
    async with context.sessionmaker() as session, session.begin():
        await FileScanJobRepository(session).give_back(
            [job.job_id for job in jobs],
            datetime.now(UTC) + SCANNER_DOWN_RETRY,
            "scanner_unavailable",
        )


async def _probe_when_idle(client: ClamdClient) -> None:
    """Keep ``launchproof_scanner_up`` honest between uploads (the scanner-down alert reads it):
    a PING every ``PROBE_EVERY_SECONDS`` while there is nothing to scan."""
    global _last_probe
    now = time.monotonic()
    if now - _last_probe < PROBE_EVERY_SECONDS:
        return
    _last_probe = now
    try:
        SCANNER_UP.set(1 if await client.ping() else 0)
    except ScannerError:
        SCANNER_UP.set(0)


async def _postpone(context: WorkerContext, job: Claimed, error: str) -> None:
    FILE_SCANS.labels(outcome="error").inc()
    when = datetime.now(UTC) + backoff(job.attempts)
    if job.attempts >= context.settings.file_scan_max_attempts:
        log.error("file scan keeps failing; file stays pending", attempts=job.attempts, error=error)
    async with context.sessionmaker() as session, session.begin():
        await FileScanJobRepository(session).retry_at(job.job_id, when, error)


async def _scan_one(
    context: WorkerContext, client: ClamdClient, storage: Storage, engine: str, job: Claimed
) -> int:
    async with context.sessionmaker() as session, session.begin():
        await PrincipalContextRepository(session).bind_worker_scope(job.workspace_id)
        file = await FileRepository(session).get_for_scan(job.workspace_id, job.file_id)
        if file is None or file.status is not FileStatus.PENDING_SCAN:
            await FileScanJobRepository(session).finish(job.job_id)
            return 0
        key = file.storage_key
    try:
        result = await scan_stored(client, storage, key)
        SCANNER_UP.set(1)
        if result.infected:
            await storage.delete(key)  # the bytes go first; the row stays as the record
    except ScannerUnavailable:
        raise  # the whole batch waits for the scanner (scan_pending_files)
    except ScannerError:
        SCANNER_UP.set(0)
        await _postpone(context, job, "scanner_error")
        return 0
    except StorageError as exc:
        await _postpone(context, job, f"storage_{exc}")
        return 0
    await _record_verdict(context, job, engine, result)
    return 1


async def _record_verdict(
    context: WorkerContext, job: Claimed, engine: str, result: ScanResult
) -> None:
    async with context.sessionmaker() as session, session.begin():
        await PrincipalContextRepository(session).bind_worker_scope(job.workspace_id)
        file = await FileRepository(session).get_for_scan(job.workspace_id, job.file_id)
        await FileScanJobRepository(session).finish(job.job_id)
        if file is None:  # deleted while being scanned: nothing to record
            return
        file.status = FileStatus.INFECTED if result.infected else FileStatus.CLEAN
        file.scan_engine = engine
        file.scan_detail = result.signature
        file.scanned_at = datetime.now(UTC)
        await session.flush()
        FILE_SCANS.labels(outcome=file.status.value).inc()
        if result.infected:
            log.warning(
                "infected upload quarantined", file_id=str(file.id), signature=result.signature
            )
            await audit.record(
                session,
                "file.infected",
                outcome="failure",
                actor_user_id=file.uploaded_by_id,
                workspace_id=file.workspace_id,
                target_type="file",
                target_id=file.id,
                details={"signature": result.signature},
            )
        await emit_event(
            session,
            workspace_id=file.workspace_id,
            event_type=EventType.FILE_SCANNED,
            data={
                "file_id": file.id,
                "status": file.status.value,
                "content_type": file.content_type,
                "filename": file.display_name,  # content: only for endpoints that opted in
            },
        )


JOBS = (Job("scan_files", scan_pending_files, every_seconds=1.0),)
