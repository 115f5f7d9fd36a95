"""Shared fixtures: a tiny knowledge base for fast unit tests, the real one for slow tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
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


POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
"""The machine's PostgreSQL (trust auth); CI has one, a fresh laptop may not."""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the test PostgreSQL for one test, dropped afterwards."""
    import psycopg

    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL at {POSTGRES_URL} ({error.__class__.__name__}); CI has one")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on a SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))
