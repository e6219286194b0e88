from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, TenantMixin


class WorkspaceUsage(TenantMixin, Base):
    """Model tokens of a workspace on one UTC day: the per-workspace spend cap's ledger.

    ``prompt_tokens``/``completion_tokens`` are settled spend; ``reserved_tokens`` is what turns
    still running were admitted for (the sum of their ``usage_reservation`` rows of that day).
    """

    __tablename__ = "workspace_usage"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    reserved_tokens: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class UsageReservation(TenantMixin, Base):
    """One running turn's admission: what it holds of its day's budget until it is settled.

    Keyed by the assistant message, with no foreign key to it: a conversation deleted while its
    answer streams still has its reservation settled (released and charged) by ``finalize_turn``.
    Settling deletes the row, so a turn is settled exactly once whoever ends it.
    """

    __tablename__ = "usage_reservation"

    message_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False, index=True
    )
    day: Mapped[date] = mapped_column(Date, nullable=False)
    reserved_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
    prompt_estimate: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
