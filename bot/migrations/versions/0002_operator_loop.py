"""The operators' loop: review columns on the unanswered log, daily message counters.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("unanswered") as table:
        table.add_column(sa.Column("reply", sa.Text))
        table.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("review", sa.String(200)))
        table.create_index("ix_unanswered_status", ["status"])
    op.create_table(
        "message_counts",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("intent", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(32), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("message_counts")
    with op.batch_alter_table("unanswered") as table:
        table.drop_index("ix_unanswered_status")
        table.drop_column("review")
        table.drop_column("reviewed_at")
        table.drop_column("reply")
