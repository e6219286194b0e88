"""The inbound event store: a platform table (events arrive with no principal or workspace)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, column, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin


class InboundWebhookEvent(IDMixin, Base):
    """A verified event from a configured source, stored once per ``(source, webhook-id)``.

    The unique constraint is the replay guard: a duplicate insert does nothing (``ON CONFLICT DO
    NOTHING``), however many copies arrive at once.
    """

    __tablename__ = "inbound_webhook_event"
    __table_args__ = (
        UniqueConstraint("source", "webhook_id", name="uq_inbound_webhook_event"),
        Index(
            "ix_inbound_webhook_event_unprocessed",
            "received_at",
            postgresql_where=column("processed_at").is_(None),
        ),
    )

    source: Mapped[str] = mapped_column(String(64), nullable=False)
    webhook_id: Mapped[str] = mapped_column(String(256), nullable=False)
    event_type: Mapped[str] = mapped_column(String(128), nullable=False, default="")
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    process_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(200))
