"""Turn leases: ``message.error_code`` and the ``turn_lease`` platform table.

A streaming assistant message has one ``turn_lease`` row (ids and times only, no tenant data, no
RLS, like ``file_scan_job``): the API process that streams the turn renews it; the worker claims
rows whose lease passed (``FOR UPDATE SKIP LOCKED``), binds the row's workspace and user, and ends
the orphaned turn ``failed``. ``error_code`` records why a turn ended ``failed``/``incomplete``.

Revision ID: 0008_turn_leases
Revises: 0007_token_reservations
Create Date: 2026-12-07 08:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_turn_leases"
down_revision: str | None = "0007_token_reservations"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("message", sa.Column("error_code", sa.String(length=64), nullable=True))
    op.create_table(
        "turn_lease",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("streamed_chars", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_turn_lease_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_turn_lease_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_turn_lease_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_turn_lease")),
    )
    op.create_index(op.f("ix_turn_lease_expires_at"), "turn_lease", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_turn_lease_expires_at"), table_name="turn_lease")
    op.drop_table("turn_lease")
    op.drop_column("message", "error_code")
