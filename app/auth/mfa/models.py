"""Second factors: a TOTP secret, recovery codes, and the half-signed-in login state.

None of these tables is tenant data (they belong to one person, like ``user_session``), so they
carry no row-level security; every repository method takes the owning user id.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, LargeBinary, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin


class TotpFactor(IDMixin, Base):
    """One TOTP secret per user, Fernet-encrypted; usable once confirmed with a first code."""

    __tablename__ = "totp_factor"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The RFC 6238 time step of the last accepted code: a code is accepted once, and never one
    # from an earlier step (no replay inside the ±1 step window).
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(IDMixin, Base):
    """A single-use recovery code, stored only as its keyed hash."""

    __tablename__ = "recovery_code"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginChallenge(IDMixin, Base):
    """The half-signed-in state between password and factor (docs/decisions/0018).

    ``password_ok`` is stored rather than answered: step 1 looks the same whether the password
    was right, and step 2 fails identically for a wrong password or a wrong factor.
    """

    __tablename__ = "login_challenge"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, nullable=False)
    # Keyed hash of the User-Agent that started it: another browser's cookie jar does not fit.
    browser_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    password_ok: Mapped[bool] = mapped_column(Boolean, nullable=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
