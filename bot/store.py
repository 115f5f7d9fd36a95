"""The bot's database (SQLAlchemy): webhook dedupe, conversation context, the unanswered log,
message counters.

SQLite by default, PostgreSQL to scale; every method is a short transaction, safe to call
from several threads, processes or replicas at once. The methods are synchronous: the web
adapter runs them in a worker thread. The schema is in `bot.schema`; `migrate` brings any
older database up to it at start.
"""

from __future__ import annotations

import fcntl
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from bot.domain import Context, Lang, Reply, Status
from bot.review import OPEN, Logged
from bot.schema import (
    conversations,
    message_counts,
    processed_events,
    server_secrets,
    unanswered,
)

EVENT_MEMORY = timedelta(days=2)
"""LINE redelivers a failed webhook for up to about a day; remember event ids a bit longer."""
LOGGED = {Status.UNANSWERED: "new", Status.LOW_CONFIDENCE: "low_confidence"}
"""Replies an operator should see, and the status they enter the unanswered log with."""
MIGRATION_LOCK = 7_261_001
"""PostgreSQL advisory lock id held while migrating, so replicas starting together take turns."""
FIRST_REVISION = "0001"
"""What a database created before migrations existed (same tables, no alembic_version) is."""


def engine_url(database_url: str) -> str:
    """Accept the plain `postgresql://` form and use the installed psycopg 3 driver.

    >>> engine_url("postgresql://bot@127.0.0.1:5432/test")
    'postgresql+psycopg://bot@127.0.0.1:5432/test'
    >>> engine_url("sqlite:///data/bot.sqlite3")
    'sqlite:///data/bot.sqlite3'
    """
    for plain in ("postgresql://", "postgres://"):
        if database_url.startswith(plain):
            return "postgresql+psycopg://" + database_url[len(plain) :]
    return database_url


def create_store_engine(database_url: str) -> Engine:
    """An engine with a bounded pool; SQLite gets WAL and a busy timeout for concurrent writers."""
    url = make_url(engine_url(database_url))
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def tune_sqlite(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=10)


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def context_to_json(context: Context) -> dict[str, Any]:
    return {
        "entities": list(context.entities),
        "intent": context.intent,
        "lang": context.lang.value,
        "at": context.at,
    }


def context_from_json(data: dict[str, Any]) -> Context:
    return Context(
        entities=tuple(data.get("entities", ())),
        intent=data.get("intent"),
        lang=Lang(data.get("lang", "th")),
        at=float(data.get("at", 0.0)),
    )


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic, `bot/migrations/`), keeping its rows.

    Replicas starting together take turns (an advisory lock on PostgreSQL, a lock file next
    to a SQLite database); a database made before migrations existed is recognised by its
    tables and stamped as the first revision.
    """
    with migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
        config = Config()
        config.set_main_option("script_location", "bot:migrations")
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "processed_events" in tables and "alembic_version" not in tables:
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, "head")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Statements:
    """Statements that differ by dialect (upserts), built once and run with bound
    parameters: on the hot path, building them per call cost more than running them."""

    def __init__(self, dialect: str) -> None:
        dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.claim = (
            dialect_insert(processed_events)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(processed_events.c.event_id)
        )
        self.context = select(conversations.c.context, conversations.c.updated_at).where(
            conversations.c.user_key == bindparam("user_key")
        )
        save = dialect_insert(conversations)
        self.save_context = save.on_conflict_do_update(
            index_elements=["user_key"],
            set_={"context": save.excluded.context, "updated_at": save.excluded.updated_at},
        )
        self.log = insert(unanswered)
        self.create_secret = dialect_insert(server_secrets).on_conflict_do_nothing(
            index_elements=["name"]
        )
        count = dialect_insert(message_counts)
        self.count = count.on_conflict_do_update(
            index_elements=["day", "intent", "status"],
            set_={"count": message_counts.c.count + count.excluded.count},
        )


class Turn:
    """One conversation turn's reads and writes, in one transaction on one connection: a
    redelivered event claims nothing and writes nothing; a failed write claims nothing."""

    def __init__(self, connection: Connection, statements: Statements) -> None:
        self.connection = connection
        self.statements = statements

    def claim(self, event_id: str, *, now: datetime) -> bool:
        """True for the first delivery of a webhook event; the primary key settles races."""
        values = {"event_id": event_id, "received_at": now}
        return self.connection.execute(self.statements.claim, values).first() is not None

    def context(self, user_key: str, *, now: datetime, max_age: timedelta) -> Context | None:
        row = self.connection.execute(self.statements.context, {"user_key": user_key}).first()
        if row is None or now - utc(row.updated_at) > max_age:
            return None
        return context_from_json(row.context)

    def record(
        self, user_key: str, question: str, reply: Reply, *, now: datetime, previous: Context | None
    ) -> None:
        """What the turn leaves behind: the new context if it changed, the question if an
        operator should see it, and one more message in the day's counters."""
        execute = self.connection.execute
        if reply.context != (previous or Context()):
            values = {"user_key": user_key, "context": context_to_json(reply.context)}
            execute(self.statements.save_context, {**values, "updated_at": now})
        if reply.status in LOGGED:
            execute(self.statements.log, {
                "user_key": user_key, "text": question,
                "normalised": reply.normalised or question, "intent": reply.intent,
                "confidence": reply.confidence, "entities": list(reply.entities),
                "status": LOGGED[reply.status], "created_at": now,
                "reply": reply.text if reply.status is Status.LOW_CONFIDENCE else None,
            })  # fmt: skip
        execute(self.statements.count, {
            "day": now.date().isoformat(), "intent": reply.intent or "",
            "status": reply.status.value, "count": 1,
        })  # fmt: skip


class Store:
    """All reads and writes of the bot's state; build with `Store.connect(url)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements = Statements(engine.dialect.name)

    @classmethod
    def connect(cls, database_url: str) -> Store:
        """Open the database and migrate it to the current schema."""
        engine = create_store_engine(database_url)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    @contextmanager
    def turn(self) -> Iterator[Turn]:
        """A transaction for one turn; committed when the block ends, rolled back on error."""
        with self.engine.begin() as connection:
            yield Turn(connection, self.statements)

    def claim_event(self, event_id: str, *, now: datetime) -> bool:
        with self.turn() as turn:
            return turn.claim(event_id, now=now)

    def load_context(self, user_key: str, *, now: datetime, max_age: timedelta) -> Context | None:
        with self.turn() as turn:
            return turn.context(user_key, now=now, max_age=max_age)

    def record(
        self, user_key: str, question: str, reply: Reply, *, now: datetime,
        previous: Context | None = None,
    ) -> None:  # fmt: skip
        with self.turn() as turn:
            turn.record(user_key, question, reply, now=now, previous=previous)

    def logged(self, statuses: Sequence[str] = OPEN, *, search: str = "") -> list[Logged]:
        """Messages in the unanswered log with these statuses (and `search` in their text)."""
        query = select(unanswered).where(unanswered.c.status.in_(statuses))
        if search:
            pattern = f"%{search}%"
            query = query.where(
                unanswered.c.text.like(pattern) | unanswered.c.normalised.like(pattern)
            )
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(unanswered.c.id)).all()
        return [
            Logged(
                id=row.id, text=row.text, normalised=row.normalised, status=row.status,
                intent=row.intent, confidence=row.confidence, entities=tuple(row.entities),
                created_at=utc(row.created_at), reply=row.reply,
            )
            for row in rows
        ]  # fmt: skip

    def review(self, message_ids: Sequence[int], *, status: str, note: str, now: datetime) -> int:
        """Mark logged messages as promoted or ignored; the number of rows changed."""
        statement = (
            update(unanswered)
            .where(unanswered.c.id.in_(list(message_ids)))
            .values(status=status, review=note[:200], reviewed_at=now)
        )
        with self.engine.begin() as connection:
            return int(connection.execute(statement).rowcount or 0)

    def purge(self, *, before: datetime) -> int:
        """Delete logged messages older than `before` (PDPA retention); the number deleted."""
        with self.engine.begin() as connection:
            deleted = connection.execute(delete(unanswered).where(unanswered.c.created_at < before))
            return int(deleted.rowcount or 0)

    def daily_counts(self, *, since: datetime) -> list[tuple[str, int, int]]:
        """(day, messages, answered) per UTC day from `since` on, oldest first."""
        answered = func.sum(message_counts.c.count).filter(
            message_counts.c.status.in_([Status.ANSWERED.value, Status.LOW_CONFIDENCE.value])
        )
        query = (
            select(message_counts.c.day, func.sum(message_counts.c.count), answered)
            .where(message_counts.c.day >= since.date().isoformat())
            .group_by(message_counts.c.day)
            .order_by(message_counts.c.day)
        )
        with self.engine.connect() as connection:
            return [(day, int(total), int(ok or 0)) for day, total, ok in connection.execute(query)]

    def top_intents(self, *, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
        """The most frequent intents from `since` on (questions with no intent left out)."""
        total = func.sum(message_counts.c.count)
        query = (
            select(message_counts.c.intent, total)
            .where(message_counts.c.day >= since.date().isoformat(), message_counts.c.intent != "")
            .group_by(message_counts.c.intent)
            .order_by(total.desc(), message_counts.c.intent)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [(intent, int(count)) for intent, count in connection.execute(query)]

    def secret(self, name: str) -> str:
        """A random server secret, created once and shared by every process on this database."""
        statement = select(server_secrets.c.value).where(server_secrets.c.name == name)
        with self.engine.begin() as connection:
            connection.execute(
                self.statements.create_secret, {"name": name, "value": secrets.token_hex(32)}
            )
        with self.engine.connect() as connection:  # whoever created it first, everyone reads it
            return str(connection.execute(statement).scalar_one())

    def prune(self, *, now: datetime, context_age: timedelta) -> int:
        """Forget processed event ids and contexts that can no longer matter."""
        with self.engine.begin() as connection:
            events = connection.execute(
                delete(processed_events).where(processed_events.c.received_at < now - EVENT_MEMORY)
            ).rowcount
            contexts = connection.execute(
                delete(conversations).where(conversations.c.updated_at < now - context_age)
            ).rowcount
        return int(events or 0) + int(contexts or 0)
