"""Assemble a trained `Bot` from the staff-edited files (shared by the CLI and the server)."""

from __future__ import annotations

from bot.config import Settings
from bot.core import Bot
from bot.files import load_all


def load_bot(settings: Settings) -> Bot:
    """Validate `knowledge/` and `intents/`, then train; raises KnowledgeError listing problems."""
    knowledge, training = load_all(settings.knowledge_dir, settings.intents_dir)
    return Bot.train(knowledge, training, engine=settings.tokenizer_engine)
