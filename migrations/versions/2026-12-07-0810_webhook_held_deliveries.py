"""Held webhook deliveries and the long-failure disable policy.

``webhook_delivery_status`` gains ``held``: deliveries of a disabled endpoint are kept (and new
events still recorded) instead of being marked failed; re-enabling queues them again.
``webhook_endpoint`` gains ``failing_since`` (start of the current failure streak: an endpoint is
disabled only after failing continuously for ``WEBHOOK_DISABLE_AFTER_SECONDS``) and
``disabled_at`` (a disabled endpoint records events for ``WEBHOOK_RETENTION_DAYS`` after it).

Revision ID: 0009_webhook_held_deliveries
Revises: 0008_turn_leases
Create Date: 2026-12-07 08:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_webhook_held_deliveries"
down_revision: str | None = "0008_turn_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD VALUE may run in a transaction (PostgreSQL >= 12) as long as it is not used in it.
    op.execute("ALTER TYPE webhook_delivery_status ADD VALUE IF NOT EXISTS 'held'")
    op.add_column(
        "webhook_endpoint",
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "webhook_endpoint", sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Endpoints already disabled count as disabled now (their retention window starts today).
    op.execute("UPDATE webhook_endpoint SET disabled_at = now() WHERE NOT enabled")


def downgrade() -> None:
    op.drop_column("webhook_endpoint", "disabled_at")
    op.drop_column("webhook_endpoint", "failing_since")
    # PostgreSQL cannot drop an enum value: held rows become failed, the type is rebuilt.
    op.execute("UPDATE webhook_delivery SET status = 'failed' WHERE status = 'held'")
    op.execute("ALTER TYPE webhook_delivery_status RENAME TO webhook_delivery_status_old")
    op.execute("CREATE TYPE webhook_delivery_status AS ENUM ('pending', 'succeeded', 'failed')")
    op.execute("ALTER TABLE webhook_delivery ALTER COLUMN status DROP DEFAULT")
    op.execute(
        "ALTER TABLE webhook_delivery ALTER COLUMN status TYPE webhook_delivery_status "
        "USING status::text::webhook_delivery_status"
    )
    op.execute("DROP TYPE webhook_delivery_status_old")
