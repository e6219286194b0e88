"""Create files, message attachments and the scan queue, with RLS on the tenant tables.

``file`` and ``message_file`` are tenant tables with forced row-level security (workspace
policy). ``file_scan_job`` is a platform queue (ids only) the worker claims across workspaces
before binding the one workspace of each job; it holds no file name, type or content.

Revision ID: 0004_files
Revises: 0003_chat
Create Date: 2026-11-29 07:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_files"
down_revision: str | None = "0003_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("file", "message_file")
FILE_STATUS = sa.Enum("pending_scan", "clean", "infected", name="file_status")


def _now() -> sa.Column[sa.DateTime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "file",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("status", FILE_STATUS, nullable=False),
        sa.Column("scan_engine", sa.String(length=120), nullable=True),
        sa.Column("scan_detail", sa.String(length=200), nullable=True),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _now(),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_file_uploaded_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_file_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_file_storage_key")),
    )
    op.create_index(op.f("ix_file_workspace_id"), "file", ["workspace_id"], unique=False)
    op.create_table(
        "message_file",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        _now(),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file.id"], name=op.f("fk_message_file_file_id_file"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_message_file_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_message_file_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", "file_id", name=op.f("pk_message_file")),
    )
    op.create_index(op.f("ix_message_file_file_id"), "message_file", ["file_id"], unique=False)
    op.create_index(
        op.f("ix_message_file_workspace_id"), "message_file", ["workspace_id"], unique=False
    )
    op.create_table(
        "file_scan_job",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.String(length=100), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        _now(),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file.id"], name=op.f("fk_file_scan_job_file_id_file"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_file_scan_job_workspace_id_workspace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_scan_job")),
        sa.UniqueConstraint("file_id", name=op.f("uq_file_scan_job_file_id")),
    )
    op.create_index(
        op.f("ix_file_scan_job_next_attempt_at"), "file_scan_job", ["next_attempt_at"], unique=False
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
    op.drop_index(op.f("ix_file_scan_job_next_attempt_at"), table_name="file_scan_job")
    op.drop_table("file_scan_job")
    op.drop_index(op.f("ix_message_file_workspace_id"), table_name="message_file")
    op.drop_index(op.f("ix_message_file_file_id"), table_name="message_file")
    op.drop_table("message_file")
    op.drop_index(op.f("ix_file_workspace_id"), table_name="file")
    op.drop_table("file")
    FILE_STATUS.drop(op.get_bind(), checkfirst=True)
