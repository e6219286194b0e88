from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin, TimestampMixin


class User(IDMixin, TimestampMixin, Base):
    """A person. Not tenant-owned: a user reaches workspaces through memberships."""

    __tablename__ = "user_account"

    # Stored normalised (NFKC, trimmed, lower-case): one account per mailbox.
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_staff: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Set while at least one second factor is enrolled: login then takes two steps (docs/mfa.md).
    second_factor_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The WebAuthn user handle of this person's passkeys: random, never the id or the e-mail.
    passkey_user_handle: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)

    @property
    def is_active(self) -> bool:
        return self.suspended_at is None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
