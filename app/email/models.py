from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxEmail(IDMixin, Base):
    """A platform e-mail written in the transaction that caused it, delivered by the worker.

    A platform table (no workspace data, no RLS): the worker claims due rows with ``FOR UPDATE
    SKIP LOCKED`` (app/email/jobs.py), signs and sends them with no transaction open, then marks
    them sent or schedules a retry. Without SMTP_URL (development, tests) the table *is* the
    mailbox. Never logged: bodies carry tokens; ``last_error`` holds an error class, never text.
    """

    __tablename__ = "email_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
    )

    to_address: Mapped[str] = mapped_column(String(320), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(
        String(10), nullable=False, server_default=EmailStatus.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    # A claimed row is leased: another worker takes it over only after this passes (a crash).
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The exception class or SMTP reply code of the last failure; never message text.
    last_error: Mapped[str | None] = mapped_column(String(200))
    # Fixed at the first attempt and reused by retries, so a receiver can drop a duplicate.
    message_id: Mapped[str | None] = mapped_column(String(255))


# The worker's claim scans only pending rows by due time.
Index(
    "ix_email_outbox_due",
    OutboxEmail.next_attempt_at,
    postgresql_where=OutboxEmail.status == EmailStatus.PENDING.value,
)
