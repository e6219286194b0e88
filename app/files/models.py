"""Uploaded files, their attachment to messages, and the platform queue of pending scans."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin, TenantMixin, TimestampMixin


class FileStatus(StrEnum):
    """``pending_scan`` files are unusable; only ``clean`` ones are downloadable or readable by
    the bot; ``infected`` ones have no stored bytes left, only this record."""

    PENDING_SCAN = "pending_scan"
    CLEAN = "clean"
    INFECTED = "infected"


class File(IDMixin, TimestampMixin, TenantMixin, Base):
    """One upload in one workspace. ``storage_key`` is random and prefixed by the workspace."""

    __tablename__ = "file"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # Sanitised display metadata only: never a path, never used to store or serve the bytes.
    display_name: Mapped[str] = mapped_column(String(255), nullable=False)
    # Decided from the bytes (app/files/sniffing.py), never from the client.
    content_type: Mapped[str] = mapped_column(String(120), nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    status: Mapped[FileStatus] = mapped_column(
        Enum(FileStatus, name="file_status", values_callable=lambda e: [m.value for m in e]),
        nullable=False,
    )
    # "ClamAV 1.4.6/..." or "disabled" (development without a scanner: the file says so).
    scan_engine: Mapped[str | None] = mapped_column(String(120))
    # The signature name for infected files; nothing else is kept from the scanner's answer.
    scan_detail: Mapped[str | None] = mapped_column(String(200))
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageFile(TenantMixin, Base):
    """A file attached to a user's message. Deleting the file deletes the link (cascade), so a
    deleted file can never be read back into a later prompt."""

    __tablename__ = "message_file"

    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("message.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("file.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class FileScanJob(IDMixin, Base):
    """A platform queue row (ids only, no tenant data): one pending scan, written in the
    upload's transaction, claimed by the worker with ``FOR UPDATE SKIP LOCKED``."""

    __tablename__ = "file_scan_job"

    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("file.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Due time; a claim pushes it forward (a lease), so a crashed worker's claim comes back.
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )
    last_error: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
