"""The store on a real SQLite file and on the real PostgreSQL (skipped only where none runs)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from bot.domain import Context, Lang, Reply, Status
from bot.review import group_messages
from bot.store import EVENT_MEMORY, Store

T = TypeVar("T")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TEN_MINUTES = timedelta(minutes=10)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.connect(database_url)
    yield opened
    opened.close()


def at_once(count: int, work: Callable[[], T]) -> list[T]:
    """Run `work` in `count` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[T] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        result = work()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def refusal(normalised: str) -> Reply:
    return Reply(
        text="ขออภัยค่ะ", intent="out_of_scope", confidence=0.8, status=Status.UNANSWERED,
        lang=Lang.TH, entities=("depa",), normalised=normalised,
    )  # fmt: skip


def answer(context: Context, status: Status = Status.ANSWERED) -> Reply:
    return Reply(
        text="คำตอบ", intent="goal", confidence=0.9, status=status, lang=Lang.TH, context=context
    )


def test_an_event_is_claimed_once(store: Store) -> None:
    assert store.claim_event("E1", now=NOW)
    assert not store.claim_event("E1", now=NOW)
    assert store.claim_event("E2", now=NOW)


def test_concurrent_claims_from_two_connections_let_exactly_one_win(
    store: Store, database_url: str
) -> None:
    other = Store.connect(database_url)  # another process would have its own pool
    try:
        stores = [store, other] * 4
        results = at_once(8, lambda: stores.pop().claim_event("same", now=NOW))
    finally:
        other.close()
    assert sorted(results) == [False] * 7 + [True]


def test_context_round_trip_and_expiry(store: Store) -> None:
    context = Context(entities=("khon-kaen",), intent="goal", lang=Lang.EN, at=123.5)
    store.record("u1", "q", answer(context), now=NOW)
    assert store.load_context("u1", now=NOW + timedelta(minutes=9), max_age=TEN_MINUTES) == context
    assert store.load_context("u1", now=NOW + timedelta(minutes=11), max_age=TEN_MINUTES) is None
    assert store.load_context("u2", now=NOW, max_age=TEN_MINUTES) is None
    newer = Context(entities=("mae-mo",), intent="goal", at=200.0)
    store.record("u1", "q", answer(newer), now=NOW, previous=context)
    assert store.load_context("u1", now=NOW, max_age=TEN_MINUTES) == newer


def test_unanswered_grouped_by_normalised_text(store: Store) -> None:
    for minute, (text, normalised) in enumerate(
        [("ดูดวง", "ดูดวง"), ("ดูดวงงงง", "ดูดวง"), ("ดูดวง", "ดูดวง"), ("หวยออกอะไร", "หวยออกอะไร")]
    ):
        store.record(f"u{minute}", text, refusal(normalised), now=NOW + timedelta(minutes=minute))
    first, second = group_messages(store.logged())
    assert (first.text, first.count, second.count) == ("ดูดวง", 3, 1)
    assert first.examples == ("ดูดวง", "ดูดวงงงง")
    assert first.first_seen == NOW and first.last_seen == NOW + timedelta(minutes=2)
    assert first.status == "new" and first.entities == ("depa",)
    assert first.as_dict()["first_seen"] == NOW.isoformat()
    assert first.message_ids == (1, 2, 3) and second.message_ids == (4,)


def test_concurrent_writers_lose_no_unanswered_rows(store: Store) -> None:
    counter = iter(range(1000))
    lock = threading.Lock()

    def write_ten() -> None:
        for _ in range(10):
            with lock:
                n = next(counter)
            store.record(f"u{n}", "ดูดวง", refusal("ดูดวง"), now=NOW)

    at_once(6, write_ten)
    [group] = group_messages(store.logged())
    assert group.count == 60 and len(set(group.message_ids)) == 60
    assert store.daily_counts(since=NOW) == [(NOW.date().isoformat(), 60, 0)]


def test_secret_is_created_once_and_shared(store: Store, database_url: str) -> None:
    values = at_once(4, lambda: store.secret("user_key"))
    other = Store.connect(database_url)
    try:
        assert set(values) == {other.secret("user_key")}
    finally:
        other.close()
    assert len(values[0]) == 64 and store.secret("another") != values[0]


def test_prune_forgets_old_events_and_contexts(store: Store) -> None:
    store.claim_event("old", now=NOW - EVENT_MEMORY - timedelta(minutes=1))
    store.claim_event("recent", now=NOW)
    store.record("stale", "q", answer(Context(intent="x")), now=NOW - timedelta(hours=1))
    store.record("fresh", "q", answer(Context(intent="goal")), now=NOW)
    assert store.prune(now=NOW, context_age=TEN_MINUTES) == 2
    assert store.claim_event("old", now=NOW), "an event id past its memory may be claimed again"
    assert not store.claim_event("recent", now=NOW)
    assert store.load_context("fresh", now=NOW, max_age=TEN_MINUTES) == Context(intent="goal")
