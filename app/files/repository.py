"""Every SQL statement of the files domain.

Tenant repositories (``FileRepository``, ``MessageFileRepository``) start every read from a
statement scoped to the caller's accessible workspaces (or to one ``AccessibleWorkspaceID``);
RLS on ``file``/``message_file`` enforces the same boundary underneath. ``FileScanJobRepository``
is the platform queue the worker claims across workspaces: it holds ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, select, update

from app.conversations.models import Message
from app.core.pagination import PageParams
from app.core.repository import PageResult, Repository
from app.files.models import File, FileScanJob, FileStatus, MessageFile
from app.identity.permissions import WorkspacePermission
from app.identity.principal import Principal
from app.workspaces.access import AccessibleWorkspaceID, accessible_workspace_ids, within

# Types the bot may read as text (the file tool and attachments).
TEXT_LIKE = (
    "text/plain",
    "text/markdown",
    "text/csv",
    "application/json",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)


class FileRepository(Repository[File]):
    model = File

    def readable_statement(self, principal: Principal) -> Select[File]:
        """Files in workspaces where the caller may read files. Every read path starts here."""
        ids = accessible_workspace_ids(principal, WorkspacePermission.FILES_READ)
        return select(File).where(within(File.workspace_id, ids))

    async def get_readable(self, principal: Principal, file_id: uuid.UUID) -> File | None:
        return await self.get_one_or_none(
            self.readable_statement(principal).where(File.id == file_id)
        )

    async def list_in(
        self, principal: Principal, workspace_id: AccessibleWorkspaceID, params: PageParams
    ) -> PageResult[File]:
        return await self.paginate(
            self.readable_statement(principal).where(File.workspace_id == workspace_id), params
        )

    async def lock_quota(self, workspace_id: AccessibleWorkspaceID) -> int:
        """Serialise quota decisions for one workspace (transaction-scoped advisory lock), then
        return the bytes its files hold. Concurrent uploads to the same workspace queue here, so
        two of them can never both fit into the same remaining space."""
        key = func.hashtextextended("file-quota:" + str(workspace_id), 0)
        await self.session.execute(select(func.pg_advisory_xact_lock(key)))
        return await self.used_bytes(workspace_id)

    async def used_bytes(self, workspace_id: AccessibleWorkspaceID) -> int:
        """Bytes held in storage (infected files have had theirs deleted)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(File.size_bytes), 0)).where(
                File.workspace_id == workspace_id, File.status != FileStatus.INFECTED
            )
        )
        return int(total or 0)

    async def readable_in(
        self,
        principal: Principal,
        workspace_id: AccessibleWorkspaceID,
        file_ids: Sequence[uuid.UUID],
    ) -> Sequence[File]:
        """Readable files among ``file_ids`` in this one workspace (any status)."""
        return await self.get_all(
            self.readable_statement(principal).where(
                File.workspace_id == workspace_id, File.id.in_(list(file_ids))
            )
        )

    async def text_candidates(
        self, principal: Principal, workspace_id: AccessibleWorkspaceID, limit: int
    ) -> Sequence[File]:
        """Newest clean text-like files of one workspace (what the file tool may search)."""
        return await self.get_all(
            self.readable_statement(principal)
            .where(
                File.workspace_id == workspace_id,
                File.status == FileStatus.CLEAN,
                File.content_type.in_(TEXT_LIKE),
            )
            .order_by(File.created_at.desc(), File.id.desc())
            .limit(limit)
        )

    async def get_for_scan(
        self, workspace_id: AccessibleWorkspaceID, file_id: uuid.UUID
    ) -> File | None:
        """The worker's read, inside the one workspace its job row names (RLS bound to it)."""
        return await self.get_one_or_none(
            select(File).where(File.workspace_id == workspace_id, File.id == file_id)
        )


class MessageFileRepository(Repository[MessageFile]):
    model = MessageFile

    async def attach(
        self,
        workspace_id: AccessibleWorkspaceID,
        message_id: uuid.UUID,
        file_ids: Sequence[uuid.UUID],
    ) -> None:
        for file_id in file_ids:
            self.session.add(
                MessageFile(message_id=message_id, file_id=file_id, workspace_id=workspace_id)
            )
        await self.session.flush()

    async def attached_files(
        self,
        principal: Principal,
        workspace_id: AccessibleWorkspaceID,
        message_ids: Sequence[uuid.UUID],
    ) -> Sequence[tuple[uuid.UUID, File]]:
        """(message id, file) for the caller's own messages' attachments that are still clean.

        Deleted files are gone from here (the link cascades away), so they never re-enter a
        prompt; the message join is scoped to the caller's own messages (RLS agrees)."""
        ids = accessible_workspace_ids(principal, WorkspacePermission.FILES_READ)
        statement = (
            select(MessageFile.message_id, File)
            .join(File, File.id == MessageFile.file_id)
            .join(Message, Message.id == MessageFile.message_id)
            .where(
                MessageFile.workspace_id == workspace_id,
                within(File.workspace_id, ids),
                File.status == FileStatus.CLEAN,
                Message.user_id == principal.user_id,
                MessageFile.message_id.in_(list(message_ids)),
            )
            .order_by(MessageFile.created_at, File.id)
        )
        rows = await self.session.execute(statement)
        return [(row[0], row[1]) for row in rows.all()]


class FileScanJobRepository(Repository[FileScanJob]):
    model = FileScanJob

    async def claim_due(
        self, now: datetime, *, limit: int, lease: timedelta
    ) -> Sequence[FileScanJob]:
        """Due jobs, locked with SKIP LOCKED (other workers take others) and leased: the due
        time moves ``lease`` ahead, so a worker that dies mid-scan gives the job back."""
        jobs = await self.get_all(
            select(FileScanJob)
            .where(FileScanJob.next_attempt_at <= now)
            .order_by(FileScanJob.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        for job in jobs:
            job.attempts += 1
            job.next_attempt_at = now + lease
        await self.session.flush()
        return jobs

    async def finish(self, job_id: uuid.UUID) -> None:
        await self.session.execute(delete(FileScanJob).where(FileScanJob.id == job_id))

    async def retry_at(self, job_id: uuid.UUID, when: datetime, error: str) -> None:
        await self.session.execute(
            update(FileScanJob)
            .where(FileScanJob.id == job_id)
            .values(next_attempt_at=when, last_error=error[:100])
        )

    async def give_back(self, job_ids: Sequence[uuid.UUID], when: datetime, error: str) -> None:
        """Un-claim jobs the worker could not try (the scanner is down): the claim's attempt is
        refunded, so an outage never pushes a file into the long backoff of a failing one."""
        await self.session.execute(
            update(FileScanJob)
            .where(FileScanJob.id.in_(list(job_ids)))
            .values(
                next_attempt_at=when,
                last_error=error[:100],
                attempts=func.greatest(FileScanJob.attempts - 1, 0),
            )
        )

    async def pending_count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(FileScanJob)) or 0)
