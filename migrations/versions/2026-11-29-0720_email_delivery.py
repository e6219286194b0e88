"""E-mail delivery state on the outbox: status, attempts, backoff, lease, last error class.

``email_outbox`` stays a platform table (no workspace data, no RLS): the worker claims due rows
with ``FOR UPDATE SKIP LOCKED`` and a lease, so a crash between the SMTP hand-off and the mark
makes the row due again once the lease passes instead of losing it.

Revision ID: 0006_email_delivery
Revises: 0005_webhooks
Create Date: 2026-11-29 07:20:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_email_delivery"
down_revision: str | None = "0005_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "email_outbox",
        sa.Column("status", sa.String(length=10), server_default="pending", nullable=False),
    )
    op.add_column(
        "email_outbox", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "email_outbox",
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column(
        "email_outbox", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("email_outbox", sa.Column("last_error", sa.String(length=200), nullable=True))
    op.add_column("email_outbox", sa.Column("message_id", sa.String(length=255), nullable=True))
    op.execute("UPDATE email_outbox SET status = 'sent' WHERE sent_at IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_email_outbox_status_known"),
        "email_outbox",
        "status IN ('pending', 'sent', 'failed')",
    )
    op.create_index(
        "ix_email_outbox_due",
        "email_outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_email_outbox_due", table_name="email_outbox")
    op.drop_constraint(op.f("ck_email_outbox_status_known"), "email_outbox", type_="check")
    for column in (
        "message_id",
        "last_error",
        "locked_until",
        "next_attempt_at",
        "attempts",
        "status",
    ):
        op.drop_column("email_outbox", column)
