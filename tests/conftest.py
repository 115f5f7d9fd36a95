"""Shared fixtures: a tiny knowledge base for fast unit tests, the real one for slow tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import PACKAGE_PARENT
from bot.core import Bot
from bot.domain import Knowledge, TrainingData
from bot.files import load_all
from bot.thresholds import Thresholds

FIXTURES = Path(__file__).parent / "fixtures"
TINY_THRESHOLDS = Thresholds(answer=0.25, follow_up=0.25)
"""Six examples per intent give flatter probabilities than the real intents/; the tests of
decision logic use thresholds that fit the fixture, the quality tests use the real ones."""
REPO = PACKAGE_PARENT


@pytest.fixture(scope="session")
def tiny() -> tuple[Knowledge, TrainingData]:
    return load_all(FIXTURES / "knowledge", FIXTURES / "intents")


@pytest.fixture(scope="session")
def tiny_bot(tiny: tuple[Knowledge, TrainingData]) -> Bot:
    knowledge, training = tiny
    return Bot.train(knowledge, training, thresholds=TINY_THRESHOLDS)


@pytest.fixture(scope="session")
def real() -> tuple[Knowledge, TrainingData]:
    return load_all(REPO / "knowledge", REPO / "intents")


@pytest.fixture(scope="session")
def real_bot(real: tuple[Knowledge, TrainingData]) -> Bot:
    knowledge, training = real
    return Bot.train(knowledge, training)
