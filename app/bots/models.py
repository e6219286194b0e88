from __future__ import annotations

import uuid

from sqlalchemy import ARRAY, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin, TenantMixin, TimestampMixin


class Bot(IDMixin, TimestampMixin, TenantMixin, Base):
    """A configured assistant in one workspace: prompt, model, limits and tool allowlist."""

    __tablename__ = "bot"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    system_prompt: Mapped[str] = mapped_column(Text, nullable=False)
    model: Mapped[str] = mapped_column(String(100), nullable=False)
    temperature: Mapped[float] = mapped_column(Float, nullable=False)
    max_output_tokens: Mapped[int] = mapped_column(Integer, nullable=False)
    # Tool names from the registry this bot may offer to the model.
    tools: Mapped[list[str]] = mapped_column(ARRAY(String(60)), nullable=False)
    # Hosts the HTTP fetch tool may reach for this bot (exact, or "*.example.com").
    allowed_domains: Mapped[list[str]] = mapped_column(ARRAY(String(255)), nullable=False)
