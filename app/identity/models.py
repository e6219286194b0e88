"""The tables authentication reads: accounts, their sessions and API keys, workspaces and
memberships. They belong to the identity kernel so that credential lookup and the RLS binding
(``app/identity/repository.py``) import no domain; the domains that manage these rows (users,
workspaces, api_keys, auth) import them from here (docs/decisions/0022-identity-kernel.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base, IDMixin, TenantMixin, TimestampMixin
from app.identity.permissions import Role


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


class UserSession(IDMixin, Base):
    """A server-side login session. The cookie holds the token; this row holds its keyed hash."""

    __tablename__ = "user_session"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    idle_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    absolute_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    # When this session last presented a second factor (step-up freshness, docs/mfa.md).
    factor_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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


class ApiKey(IDMixin, TenantMixin, Base):
    """A workspace API key: keyed hash stored, visible prefix kept for recognition."""

    __tablename__ = "api_key"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("workspace.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # The key acts with its creator's current role in the workspace, narrowed by its scopes:
    # if the creator leaves or is demoted, the key loses that power on the next request.
    created_by_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
