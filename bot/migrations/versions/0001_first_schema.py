"""The first schema (webhook dedupe, conversations, unanswered log, server secrets).

Databases made before migrations existed have exactly these tables; `bot.store.migrate`
stamps them with this revision instead of creating them again.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_processed_events_received_at", "processed_events", ["received_at"])
    op.create_table(
        "conversations",
        sa.Column("user_key", sa.String(64), primary_key=True),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_conversations_updated_at", "conversations", ["updated_at"])
    op.create_table(
        "unanswered",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_key", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("normalised", sa.Text, nullable=False),
        sa.Column("intent", sa.String(64)),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("entities", sa.JSON, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_unanswered_normalised", "unanswered", ["normalised"])
    op.create_index("ix_unanswered_created_at", "unanswered", ["created_at"])
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    for table in ("server_secrets", "unanswered", "conversations", "processed_events"):
        op.drop_table(table)
