"""Create webhook endpoints, deliveries, attempts (tenant, forced RLS), the delivery queue and the
inbound event store (platform tables).

``webhook_queue`` holds ids and times only: the worker claims due rows across workspaces with
``FOR UPDATE SKIP LOCKED`` before it binds the one workspace a delivery belongs to.
``inbound_webhook_event`` is written before any principal exists (signature-verified calls from
a configured source), and its ``(source, webhook_id)`` unique constraint is the replay guard.

Revision ID: 0005_webhooks
Revises: 0004_files
Create Date: 2026-11-29 07:10:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005_webhooks"
down_revision: str | None = "0004_files"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("webhook_endpoint", "webhook_delivery", "webhook_delivery_attempt")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoint",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("include_content", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=64), nullable=True),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_webhook_endpoint_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_webhook_endpoint_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint")),
    )
    op.create_index(op.f("ix_webhook_endpoint_workspace_id"), "webhook_endpoint", ["workspace_id"])
    status = postgresql.ENUM(
        "pending", "succeeded", "failed", name="webhook_delivery_status", create_type=False
    )
    status.create(op.get_bind(), checkfirst=True)
    op.create_table(
        "webhook_delivery",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("endpoint_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", status, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoint.id"],
            name=op.f("fk_webhook_delivery_endpoint_id_webhook_endpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_webhook_delivery_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index(
        "ix_webhook_delivery_endpoint_created", "webhook_delivery", ["endpoint_id", "created_at"]
    )
    op.create_index(op.f("ix_webhook_delivery_workspace_id"), "webhook_delivery", ["workspace_id"])
    op.create_table(
        "webhook_delivery_attempt",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_snippet", sa.String(length=512), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_delivery_attempt_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_webhook_delivery_attempt_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery_attempt")),
    )
    op.create_index(
        op.f("ix_webhook_delivery_attempt_delivery_id"),
        "webhook_delivery_attempt",
        ["delivery_id"],
    )
    op.create_index(
        op.f("ix_webhook_delivery_attempt_workspace_id"),
        "webhook_delivery_attempt",
        ["workspace_id"],
    )
    op.create_table(
        "webhook_queue",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "enqueued_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_delivery.id"],
            name=op.f("fk_webhook_queue_delivery_id_webhook_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_webhook_queue")),
    )
    op.create_index("ix_webhook_queue_due", "webhook_queue", ["next_attempt_at"])
    op.create_table(
        "inbound_webhook_event",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("webhook_id", sa.String(length=256), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("process_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_webhook_event")),
        sa.UniqueConstraint("source", "webhook_id", name="uq_inbound_webhook_event"),
    )
    op.create_index(
        "ix_inbound_webhook_event_unprocessed",
        "inbound_webhook_event",
        ["received_at"],
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    for table in TENANT_TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        condition = "workspace_id = ANY (app_workspace_ids())"
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING ({condition}) WITH CHECK ({condition})"
        )


def downgrade() -> None:
    for table in reversed(TENANT_TABLES):
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
    op.drop_index(
        "ix_inbound_webhook_event_unprocessed",
        table_name="inbound_webhook_event",
        postgresql_where=sa.text("processed_at IS NULL"),
    )
    op.drop_table("inbound_webhook_event")
    op.drop_index("ix_webhook_queue_due", table_name="webhook_queue")
    op.drop_table("webhook_queue")
    op.drop_index(
        op.f("ix_webhook_delivery_attempt_workspace_id"), table_name="webhook_delivery_attempt"
    )
    op.drop_index(
        op.f("ix_webhook_delivery_attempt_delivery_id"), table_name="webhook_delivery_attempt"
    )
    op.drop_table("webhook_delivery_attempt")
    op.drop_index(op.f("ix_webhook_delivery_workspace_id"), table_name="webhook_delivery")
    op.drop_index("ix_webhook_delivery_endpoint_created", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_index(op.f("ix_webhook_endpoint_workspace_id"), table_name="webhook_endpoint")
    op.drop_table("webhook_endpoint")
    sa.Enum(name="webhook_delivery_status").drop(op.get_bind(), checkfirst=True)
