"""Alembic migrations of the bot's database; `bot.store.migrate` runs them at start."""
