"""0.2.0: leases and slots shared by processes, sheets in the database, rows marked sent,
the app version per row, sample batches, and the language of batches and schedules.

Revision 0002, after 0001 (the schema released as 0.1.0).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a workflow's concurrency slots, held by whichever process is calling Dify with them
    op.create_table(
        "lane_slot",
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workflow", "slot"),
    )
    op.create_table(
        "lane_waiter",
        sa.Column("workflow", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("workflow", "owner"),
    )
    # uploaded sheets, so a replica on another machine can use what another one received
    op.create_table(
        "sheet_file",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    with op.batch_alter_table("sheet_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sheet_file_created_at"), ["created_at"], unique=False)

    # server defaults give the batches and schedules of 0.1.0 a value
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("locale", sa.String(), server_default="en", nullable=False))

    with op.batch_alter_table("row", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_user", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("workflow_id", sa.String(), nullable=True))

    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(), server_default="en", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_column("locale")

    with op.batch_alter_table("row", schema=None) as batch_op:
        batch_op.drop_column("workflow_id")
        batch_op.drop_column("sent_user")
        batch_op.drop_column("sent_at")

    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_column("locale")
        batch_op.drop_column("sample")

    with op.batch_alter_table("sheet_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sheet_file_created_at"))

    op.drop_table("sheet_file")
    op.drop_table("lane_waiter")
    op.drop_table("lane_slot")
