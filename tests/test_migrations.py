"""Schema changes never lose data: migrations on SQLite and PostgreSQL, old databases
upgraded in place, several server processes writing at once."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from bot.domain import Lang, Reply, Status
from bot.schema import message_counts, metadata, unanswered
from bot.store import Store, create_store_engine

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_migrations_build_exactly_the_declared_schema(database_url: str) -> None:
    store = Store.connect(database_url)
    try:
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        store.close()
    assert differences == [], "bot/schema.py and bot/migrations/ disagree"


def test_a_database_from_before_migrations_is_upgraded_with_its_rows(database_url: str) -> None:
    engine = create_store_engine(database_url)
    with engine.begin() as connection:  # what the first release created: no alembic_version
        config = Config()
        config.set_main_option("script_location", "bot:migrations")
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text(
            "INSERT INTO unanswered (user_key, text, normalised, intent, confidence, entities,"
            " status, created_at) VALUES ('k', 'ดูดวง', 'ดูดวง', NULL, 0.2, '[]', 'new', :at)"
        ), {"at": NOW})  # fmt: skip
        connection.execute(text("INSERT INTO processed_events VALUES ('E1', :at)"), {"at": NOW})
    engine.dispose()

    store = Store.connect(database_url)
    try:
        [message] = store.logged()
        assert (message.text, message.status, message.reply) == ("ดูดวง", "new", None)
        assert not store.claim_event("E1", now=NOW), "old event ids are still remembered"
        columns = {c["name"] for c in inspect(store.engine).get_columns("unanswered")}
        assert {"reply", "reviewed_at", "review"} <= columns
    finally:
        store.close()
    Store.connect(database_url).close()  # connecting again changes nothing


def reply(n: int) -> Reply:
    status = Status.UNANSWERED if n % 2 else Status.ANSWERED
    return Reply(text="…", intent="what_is", confidence=0.5, status=status, lang=Lang.TH)


def write_turns(database_url: str, worker: int, count: int) -> None:
    """One server process with its own engine and pool: `count` turns of its own, and
    `count` events that every worker receives (a redelivery to each replica)."""
    store = Store.connect(database_url)
    try:
        for n in range(count):
            with store.turn() as turn:
                turn.record(f"user-{worker}", f"own {worker} {n}", reply(n), now=NOW, previous=None)
            with store.turn() as turn:
                if turn.claim(f"shared-{n}", now=NOW):
                    turn.record("someone", f"shared {n}", reply(n), now=NOW, previous=None)
    finally:
        store.close()


def test_several_processes_writing_at_once_lose_and_duplicate_nothing(database_url: str) -> None:
    Store.connect(database_url).close()  # migrate once; the workers then connect concurrently
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=write_turns, args=(database_url, w, 40)) for w in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    assert [p.exitcode for p in workers] == [0, 0, 0, 0]
    store = Store.connect(database_url)
    try:
        with store.engine.connect() as connection:
            logged = connection.execute(select(unanswered.c.text)).scalars().all()
            counted = connection.execute(select(func.sum(message_counts.c.count))).scalar()
    finally:
        store.close()
    assert len(logged) == len(set(logged)) == 4 * 20 + 20, "each shared event handled once"
    assert counted == 4 * 40 + 40
