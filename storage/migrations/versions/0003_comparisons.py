"""Comparisons: the batches that ran one sheet's rows on several workflows share an id.

Revision 0003, after 0002.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comparison_id", sa.String(), nullable=True))
        batch_op.create_index(batch_op.f("ix_batch_comparison_id"), ["comparison_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_comparison_id"))
        batch_op.drop_column("comparison_id")
