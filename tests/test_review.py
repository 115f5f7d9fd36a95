"""Grouping of the unanswered log: similar questions together, ids stable as messages arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.review import Logged, find_group, group_messages

START = datetime(2026, 11, 1, tzinfo=UTC)


def logged(texts: list[str], status: str = "new") -> list[Logged]:
    return [
        Logged(id=n + 1, text=text, normalised=text, status=status, intent="out_of_scope",
               confidence=0.4, entities=(), created_at=START + timedelta(minutes=n))
        for n, text in enumerate(texts)
    ]  # fmt: skip


def test_similar_wordings_form_one_group_and_unrelated_ones_stay_apart() -> None:
    messages = logged([
        "เมืองอัจฉริยะปี 2568 มีที่ไหนบ้าง",
        "ดูดวงวันนี้",
        "เมืองอัจฉริยะปี 2568 มีที่ไหนบ้างคะ",
        "ปี 2568 มีเมืองอัจฉริยะที่ไหนบ้าง",
        "รถทัวร์ไปหาดใหญ่กี่โมง",
        "ดูดวงวันนี้หน่อย",
    ])  # fmt: skip
    groups = group_messages(messages)
    by_id = {g.id: g for g in groups}
    assert by_id[1].message_ids == (1, 3, 4) and by_id[1].count == 3
    assert by_id[2].message_ids == (2, 6)
    assert by_id[5].count == 1
    assert [g.id for g in groups] == [1, 2, 5], "most asked first"
    assert by_id[1].first_seen == START and by_id[1].last_seen == START + timedelta(minutes=3)
    assert by_id[1].examples[0] == "ปี 2568 มีเมืองอัจฉริยะที่ไหนบ้าง", "latest wording first"


def test_group_ids_stay_the_same_when_new_messages_arrive() -> None:
    before = group_messages(logged(["ดูดวงวันนี้", "หวยออกอะไร"]))
    after = group_messages(logged(["ดูดวงวันนี้", "หวยออกอะไร", "ดูดวงวันนี้หน่อย", "หวยออกอะไรคะ"]))
    assert {g.id for g in before} == {g.id for g in after} == {1, 2}
    assert find_group(after, 4) is find_group(after, 2), "a message id finds its group"


def test_statuses_are_never_mixed_in_a_group() -> None:
    ignored = Logged(id=9, text="ดูดวงวันนี้", normalised="ดูดวงวันนี้", status="ignored",
                     intent=None, confidence=0.1, entities=(), created_at=START)  # fmt: skip
    messages = [*logged(["ดูดวงวันนี้"]), ignored]
    assert sorted((g.status, g.count) for g in group_messages(messages)) == [
        ("ignored", 1), ("new", 1)
    ]  # fmt: skip


def test_texts_without_ngrams_still_group_by_equality() -> None:
    groups = group_messages(logged(["?", "?", "!"]))
    assert sorted(g.count for g in groups) == [1, 2]
