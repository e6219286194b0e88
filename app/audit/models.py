from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin


class AuditEvent(IDMixin, Base):
    """A security event. Append-only for the app role (no UPDATE/DELETE grant).

    ``workspace_id`` is nullable (a failed login has none), so this table is not a TenantMixin
    table; its RLS policy lets staff read everything and workspace members read nothing yet.
    No foreign keys: the trail must outlive the rows it talks about.
    """

    __tablename__ = "audit_event"
    # INSERT ... RETURNING would need the SELECT policy (staff only) to pass, so the app writes
    # every column itself and never reads back.
    __mapper_args__ = {"eager_defaults": False}

    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True),
        default=lambda: datetime.now(UTC),
        server_default=func.now(),
        nullable=False,
        index=True,
    )
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_api_key_id: Mapped[uuid.UUID | None] = mapped_column()
    workspace_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[uuid.UUID | None] = mapped_column()
    client_ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)

    @property
    def created_at(self) -> datetime:
        return self.occurred_at
