"""Second factors: TOTP, recovery codes, login challenges, step-up and policy columns.

``user_account.second_factor_at`` (a factor is enrolled), ``user_session.factor_verified_at``
(step-up freshness) and ``workspace.require_second_factor`` (owner policy). The new tables belong
to one person each, like ``user_session``, and so carry no row-level security (docs/mfa.md).

Revision ID: 0010_second_factor
Revises: 0009_webhook_held_deliveries
Create Date: 2026-12-07 12:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_second_factor"
down_revision: str | None = "0009_webhook_held_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owner(table: str) -> list[sa.SchemaItem]:
    """The id, owner and creation columns every new table shares, with conventional names."""
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        _created(),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f(f"fk_{table}_user_id_user_account"),
            ondelete="CASCADE",
        ),
    ]


def _created() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.add_column(
        "user_account", sa.Column("second_factor_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "user_session", sa.Column("factor_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "workspace",
        sa.Column("require_second_factor", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "totp_factor",
        *_owner("totp_factor"),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("user_id", name=op.f("uq_totp_factor_user_id")),
    )
    op.create_table(
        "recovery_code",
        *_owner("recovery_code"),
        sa.Column("code_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_code_code_hash")),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"])
    op.create_table(
        "login_challenge",
        *_owner("login_challenge"),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("browser_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("password_ok", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_challenge_token_hash")),
    )
    op.create_index(op.f("ix_login_challenge_user_id"), "login_challenge", ["user_id"])


def downgrade() -> None:
    op.drop_table("login_challenge")
    op.drop_table("recovery_code")
    op.drop_table("totp_factor")
    op.drop_column("workspace", "require_second_factor")
    op.drop_column("user_session", "factor_verified_at")
    op.drop_column("user_account", "second_factor_at")
