"""Passkeys (WebAuthn): credentials, ceremonies and the per-person user handle.

``passkey`` and ``passkey_ceremony`` belong to one person each, like ``totp_factor`` and
``login_challenge``, and so carry no row-level security (docs/mfa.md, docs/decisions/0021).

Revision ID: 0011_passkeys
Revises: 0010_second_factor
Create Date: 2026-12-07 15:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_passkeys"
down_revision: str | None = "0010_second_factor"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def _created() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.add_column(
        "user_account", sa.Column("passkey_user_handle", sa.LargeBinary(32), nullable=True)
    )
    op.create_unique_constraint(
        op.f("uq_user_account_passkey_user_handle"), "user_account", ["passkey_user_handle"]
    )
    op.create_table(
        "passkey",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("aaguid", sa.Uuid(), nullable=False),
        sa.Column("transports", sa.JSON(), nullable=False),
        _created(),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey")),
        _fk("passkey", "user_id", "user_account"),
        sa.UniqueConstraint("credential_id", name=op.f("uq_passkey_credential_id")),
    )
    op.create_index(op.f("ix_passkey_user_id"), "passkey", ["user_id"])
    op.create_table(
        "passkey_ceremony",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("challenge", sa.LargeBinary(32), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("login_challenge_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("browser_hash", sa.LargeBinary(32), nullable=True),
        _created(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_passkey_ceremony")),
        _fk("passkey_ceremony", "user_id", "user_account"),
        _fk("passkey_ceremony", "session_id", "user_session"),
        _fk("passkey_ceremony", "login_challenge_id", "login_challenge"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_passkey_ceremony_token_hash")),
    )
    for column in ("user_id", "session_id", "login_challenge_id"):
        op.create_index(op.f(f"ix_passkey_ceremony_{column}"), "passkey_ceremony", [column])


def downgrade() -> None:
    op.drop_table("passkey_ceremony")
    op.drop_table("passkey")
    op.drop_constraint(op.f("uq_user_account_passkey_user_handle"), "user_account", type_="unique")
    op.drop_column("user_account", "passkey_user_handle")
