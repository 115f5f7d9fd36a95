"""The database tables, in one place: the store reads and writes them, migrations build them.

Changing a table means adding a migration in `bot/migrations/versions/` as well; a test
checks that the migrations produce exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
)

conversations = Table(
    "conversations",
    metadata,
    Column("user_key", String(64), primary_key=True),
    Column("context", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
)

unanswered = Table(
    "unanswered",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_key", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("normalised", Text, nullable=False, index=True),
    Column("intent", String(64)),
    Column("confidence", Float, nullable=False),
    Column("entities", JSON, nullable=False),
    Column("status", String(32), nullable=False, default="new", index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("reply", Text),  # what the bot said, so an operator can judge doubtful answers
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review", String(200)),  # what the operator did, e.g. "intent=what_is entity=depa"
)

message_counts = Table(
    "message_counts",
    metadata,
    Column("day", String(10), primary_key=True),  # UTC ISO date: sorts alike everywhere
    Column("intent", String(64), primary_key=True),
    Column("status", String(32), primary_key=True),
    Column("count", Integer, nullable=False),
)

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)
