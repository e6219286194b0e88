"""Passkeys (WebAuthn credentials) and their ceremonies (docs/mfa.md, docs/decisions/0021).

Like the other second factors these rows belong to one person, so they carry no row-level
security; every repository method takes the owning user id or the ceremony's binding.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, LargeBinary, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin


class Passkey(IDMixin, Base):
    """One registered WebAuthn credential: its id and COSE public key, the authenticator's
    signature counter (a regression means a cloned authenticator), a name the owner chose."""

    __tablename__ = "passkey"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True, nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sign_count: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    aaguid: Mapped[uuid.UUID] = mapped_column(nullable=False)
    transports: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasskeyCeremony(IDMixin, Base):
    """A WebAuthn challenge the server issued: single use, two minutes, and bound to what
    started it. ``purpose`` is ``register`` or ``step_up`` (bound to ``session_id``),
    ``second_factor`` (bound to ``login_challenge_id``, the half session) or ``login`` (bound to
    the anonymous ``__Host-lp_passkey`` cookie: ``token_hash`` and the browser's ``browser_hash``).
    The client never supplies the challenge: finishing looks the ceremony up by its binding."""

    __tablename__ = "passkey_ceremony"

    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    challenge: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("user_session.id", ondelete="CASCADE"), index=True
    )
    login_challenge_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("login_challenge.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    browser_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
