"""Outgoing webhook tables.

``webhook_endpoint``, ``webhook_delivery`` and ``webhook_delivery_attempt`` are tenant tables
(forced RLS). ``webhook_queue`` is the platform-level work queue the worker claims from with
``FOR UPDATE SKIP LOCKED``: it holds ids and times only, no payload, so the worker can find due
work across workspaces before it binds the one workspace a delivery belongs to.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin, TenantMixin, TimestampMixin


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # queued or waiting for a retry
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: attempts exhausted (still replayable with recover)
    # Kept, not attempted: the endpoint is disabled. Re-enabling it queues these again.
    HELD = "held"


class WebhookEndpoint(IDMixin, TimestampMixin, TenantMixin, Base):
    """A receiver URL a workspace admin registered, with its encrypted signing secret(s)."""

    __tablename__ = "webhook_endpoint"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    # Message content goes out only to endpoints that opted in; ids and types always do.
    include_content: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(64))
    # Fernet tokens (app/webhooks/outbound/secrets.py); never the plain secret.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # During a rotation's overlap window the previous secret signs too.
    previous_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Start of the current failure streak (None while healthy): disabling needs a long streak.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When it was disabled: it keeps recording events for WEBHOOK_RETENTION_DAYS after that.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(IDMixin, TenantMixin, Base):
    """One event for one endpoint. Its id is the ``webhook-id``, the same on every retry."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_endpoint_created", "endpoint_id", "created_at"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_endpoint.id", ondelete="CASCADE"), nullable=False
    )
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    # The exact body sent on every attempt (signatures cover these bytes).
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        Enum(
            DeliveryStatus,
            name="webhook_delivery_status",
            values_callable=lambda enum: [member.value for member in enum],
        ),
        nullable=False,
        default=DeliveryStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDeliveryAttempt(IDMixin, TenantMixin, Base):
    """One HTTP attempt: outcome, timing and a short response snippet (never the secret)."""

    __tablename__ = "webhook_delivery_attempt"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), index=True, nullable=False
    )
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    response_snippet: Mapped[str] = mapped_column(String(512), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class WebhookQueue(Base):
    """Platform queue row: which delivery is due when, and who holds its lease.

    Not a tenant table on purpose: it carries ids and times only, and the worker must find due
    rows of every workspace before it can bind one workspace's RLS scope.
    """

    __tablename__ = "webhook_queue"
    __table_args__ = (Index("ix_webhook_queue_due", "next_attempt_at"),)

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_delivery.id", ondelete="CASCADE"), primary_key=True
    )
    # Which workspace scope the worker binds before it reads the delivery (ids only).
    workspace_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enqueued_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
