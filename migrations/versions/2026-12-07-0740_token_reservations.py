"""Token budget reservations: a running turn holds part of its day's budget until settled.

``workspace_usage.reserved_tokens`` is what the day's admission statement checks and adds to in
one upsert; ``usage_reservation`` keeps each running turn's share (keyed by its assistant
message) so whoever ends the turn releases exactly that amount, once. A tenant table with forced
row-level security, like the ledger. No foreign key to ``message``: a reservation outlives a
conversation deleted mid-answer so it can still be settled.

Revision ID: 0007_token_reservations
Revises: 0006_email_delivery
Create Date: 2026-12-07 07:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_token_reservations"
down_revision: str | None = "0006_email_delivery"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "workspace_usage",
        sa.Column("reserved_tokens", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_table(
        "usage_reservation",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reserved_tokens", sa.BigInteger(), nullable=False),
        sa.Column("prompt_estimate", sa.BigInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_usage_reservation_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_usage_reservation")),
    )
    op.create_index(
        op.f("ix_usage_reservation_workspace_id"),
        "usage_reservation",
        ["workspace_id"],
        unique=False,
    )
    op.execute("ALTER TABLE usage_reservation ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE usage_reservation FORCE ROW LEVEL SECURITY")
    condition = "workspace_id = ANY (app_workspace_ids())"
    op.execute(
        f"CREATE POLICY tenant_isolation ON usage_reservation "
        f"USING ({condition}) WITH CHECK ({condition})"
    )


def downgrade() -> None:
    op.execute("DROP POLICY tenant_isolation ON usage_reservation")
    op.drop_index(op.f("ix_usage_reservation_workspace_id"), table_name="usage_reservation")
    op.drop_table("usage_reservation")
    op.drop_column("workspace_usage", "reserved_tokens")
