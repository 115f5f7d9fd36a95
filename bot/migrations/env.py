"""Alembic environment: runs on the connection `bot.store.migrate` hands over.

A new migration is a new file in `versions/` whose `down_revision` is the latest one.
"""

from __future__ import annotations

from alembic import context

from bot.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
