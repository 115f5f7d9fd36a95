"""The bot's database (SQLAlchemy): webhook dedupe, conversation context, the unanswered log.

SQLite by default, PostgreSQL to scale; every method is a short transaction, safe to call
from several threads, processes or replicas at once. The methods are synchronous: the web
adapter runs them in a worker thread.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from bot.domain import Context, Lang, Reply

EVENT_MEMORY = timedelta(days=2)
"""LINE redelivers a failed webhook for up to about a day; remember event ids a bit longer."""
MAX_EXAMPLES = 5
"""Distinct original wordings shown per group of unanswered messages."""

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
    Column("status", String(32), nullable=False, default="new"),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(128), nullable=False),
)


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


@dataclass(frozen=True)
class UnansweredGroup:
    """Messages with the same normalised text: what operators review."""

    id: int
    text: str
    normalised: str
    count: int
    first_seen: datetime
    last_seen: datetime
    examples: tuple[str, ...]
    status: str
    intent: str | None
    confidence: float
    entities: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The shape of `smartcity-bot unanswered list --json`."""
        return {
            "id": self.id,
            "text": self.text,
            "normalised": self.normalised,
            "count": self.count,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "examples": list(self.examples),
            "status": self.status,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": list(self.entities),
        }


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


class Store:
    """All reads and writes of the bot's state; build with `Store.connect(url)`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def connect(cls, database_url: str) -> Store:
        """Open the database and create missing tables (idempotent, safe for replicas)."""
        store = cls(create_store_engine(database_url))
        metadata.create_all(store.engine, checkfirst=True)
        return store

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(select(1))

    def upsert(self, table: Table, values: dict[str, Any], *, key: str) -> Any:
        """INSERT … ON CONFLICT (key) DO UPDATE, in the dialect at hand."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = dialect_insert(table).values(**values)
        return statement.on_conflict_do_update(
            index_elements=[key], set_={k: v for k, v in values.items() if k != key}
        )

    def claim_event(self, event_id: str, *, now: datetime) -> bool:
        """True for the first delivery of a webhook event; the primary key settles races."""
        try:
            with self.engine.begin() as connection:
                statement = insert(processed_events).values(event_id=event_id, received_at=now)
                connection.execute(statement)
        except IntegrityError:
            return False
        return True

    def load_context(self, user_key: str, *, now: datetime, max_age: timedelta) -> Context | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(conversations.c.context, conversations.c.updated_at).where(
                    conversations.c.user_key == user_key
                )
            ).first()
        if row is None or now - utc(row.updated_at) > max_age:
            return None
        return context_from_json(row.context)

    def save_turn(
        self,
        user_key: str,
        *,
        now: datetime,
        context: Context | None = None,
        unanswered_text: str = "",
        unanswered_reply: Reply | None = None,
    ) -> None:
        """What one turn leaves behind, in one transaction: the new context, and the
        question if it went unanswered."""
        with self.engine.begin() as connection:
            if context is not None:
                values = {
                    "user_key": user_key,
                    "context": context_to_json(context),
                    "updated_at": now,
                }
                connection.execute(self.upsert(conversations, values, key="user_key"))
            if unanswered_reply is not None:
                reply = unanswered_reply
                connection.execute(
                    insert(unanswered).values(
                        user_key=user_key,
                        text=unanswered_text,
                        normalised=reply.normalised or unanswered_text,
                        intent=reply.intent,
                        confidence=reply.confidence,
                        entities=list(reply.entities),
                        status="new",
                        created_at=now,
                    )
                )

    def unanswered_groups(self, *, limit: int = 100) -> list[UnansweredGroup]:
        """Unanswered messages grouped by normalised text, most asked first."""
        counts = (
            select(
                unanswered.c.normalised,
                func.count().label("count"),
                func.min(unanswered.c.id).label("id"),
                func.min(unanswered.c.created_at).label("first_seen"),
                func.max(unanswered.c.created_at).label("last_seen"),
            )
            .group_by(unanswered.c.normalised)
            .order_by(func.count().desc(), func.max(unanswered.c.created_at).desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            groups = connection.execute(counts).all()
            rows = connection.execute(
                select(unanswered)
                .where(unanswered.c.normalised.in_([group.normalised for group in groups]))
                .order_by(unanswered.c.id)
            ).all()
        members: dict[str, list[Any]] = {}
        for row in rows:
            members.setdefault(row.normalised, []).append(row)
        return [self.group(group, members[group.normalised]) for group in groups]

    @staticmethod
    def group(summary: Any, rows: list[Any]) -> UnansweredGroup:
        first, latest = rows[0], rows[-1]
        examples = tuple(dict.fromkeys(row.text for row in reversed(rows)))[:MAX_EXAMPLES]
        return UnansweredGroup(
            id=summary.id,
            text=first.text,
            normalised=summary.normalised,
            count=summary.count,
            first_seen=utc(summary.first_seen),
            last_seen=utc(summary.last_seen),
            examples=examples,
            status=latest.status,
            intent=latest.intent,
            confidence=latest.confidence,
            entities=tuple(latest.entities),
        )

    def unanswered_rows(self) -> list[Any]:
        """Every recorded unanswered message, oldest first (for export and checks)."""
        with self.engine.connect() as connection:
            return list(connection.execute(select(unanswered).order_by(unanswered.c.id)))

    def secret(self, name: str) -> str:
        """A random server secret, created once and shared by every process on this database."""
        with self.engine.begin() as connection:
            statement = select(server_secrets.c.value).where(server_secrets.c.name == name)
            value = connection.execute(statement).scalar()
            if value is not None:
                return str(value)
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(server_secrets).values(name=name, value=secrets.token_hex(32))
                )
        except IntegrityError:
            pass  # another replica created it first; read theirs
        with self.engine.connect() as connection:
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
