from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin, TenantMixin, TimestampMixin
from app.workspaces.permissions import Role

ROLE_ENUM = Enum(Role, name="workspace_role", values_callable=lambda e: [m.value for m in e])


class Workspace(IDMixin, TimestampMixin, TenantMixin, Base):
    """A tenant. Its own row is scoped by ``id`` (RLS: ``id`` in the accessible set)."""

    __tablename__ = "workspace"
    __tenant_column__ = "id"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # Owners may require every member to have a second factor (docs/mfa.md, "Policy").
    require_second_factor: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="false"
    )


class WorkspaceMembership(IDMixin, TenantMixin, Base):
    __tablename__ = "workspace_membership"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_membership_user"),)

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    role: Mapped[Role] = mapped_column(ROLE_ENUM, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
