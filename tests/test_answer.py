from __future__ import annotations

from bot.answer import MAX_LIST_ITEMS, answer_question, suggest_for
from bot.domain import Entry, Knowledge, Lang, Link, Member, PartialDate, Person, Text, Unconfirmed


def make_entry(**fields: object) -> Entry:
    base: dict[str, object] = {
        "id": "x",
        "kind": "concept",
        "name": Text("ชื่อไทย", "English name"),
        "short": Text("ชื่อ", "Name"),
        "aliases": (),
        "summary": Text("สรุป", "Summary."),
        "sources": ("002_b6bcb78a8059ab4a.txt",),
    }
    return Entry(**{**base, **fields})  # type: ignore[arg-type]


def test_dates_show_both_eras() -> None:
    assert PartialDate(2021, 12, 24).display(Lang.TH) == "24 ธ.ค. 2564 (ค.ศ. 2021)"
    assert PartialDate(2023, 7).display(Lang.EN) == "Jul 2023 (B.E. 2566)"


def test_people_are_given_as_of_their_source_date() -> None:
    entry = make_entry(
        people=(
            Person(Text("สมชาย", "Somchai"), Text("ผู้ว่าการ", "Governor"), PartialDate(2023, 7, 10)),
        )
    )
    text = answer_question("who", entry, Knowledge((entry,)), Lang.TH).text
    assert "สมชาย, ผู้ว่าการ (ข้อมูล ณ 10 ก.ค. 2566 (ค.ศ. 2023))" in text
    assert "ปัจจุบัน" not in text


def test_missing_field_is_said_honestly_with_the_summary() -> None:
    entry = make_entry()
    answer = answer_question("where", entry, Knowledge((entry,)), Lang.EN)
    assert not answer.has_data
    assert "no location information yet" in answer.text
    assert "Summary." in answer.text


def test_unconfirmed_facts_are_flagged_not_stated() -> None:
    entry = make_entry(
        unconfirmed=(Unconfirmed(Text("ยังไม่ยืนยันค่าเรียน", "Fee not confirmed"), "requirements"),)
    )
    answer = answer_question("requirements", entry, Knowledge((entry,)), Lang.TH)
    assert answer.has_data
    assert "หมายเหตุ: ยังไม่ยืนยันค่าเรียน" in answer.text
    assert (
        "ยังไม่ยืนยันค่าเรียน" not in answer_question("what_is", entry, Knowledge((entry,)), Lang.TH).text
    )


def test_members_are_counted_and_long_lists_cut() -> None:
    names = tuple(Member(name=Text(f"สมาชิก{i}", f"member {i}")) for i in range(MAX_LIST_ITEMS + 3))
    entry = make_entry(members=names)
    text = answer_question("members", entry, Knowledge((entry,)), Lang.TH).text
    assert f"ทั้งหมด {MAX_LIST_ITEMS + 3} รายการ" in text
    assert "และอีก 3 รายการ" in text


def test_members_that_are_entries_use_their_names() -> None:
    city = make_entry(id="city", name=Text("ภูเก็ตเมืองอัจฉริยะ", "Phuket Smart City"))
    group = make_entry(id="group", members=(Member(ref="city"),))
    assert (
        "Phuket Smart City"
        in answer_question("members", group, Knowledge((city, group)), Lang.EN).text
    )


def test_link_question_shows_the_register_link_first() -> None:
    entry = make_entry(
        links=(
            Link(Text("เว็บ", "web"), "https://example.org", "website"),
            Link(Text("สมัคร", "apply"), "https://example.org/apply", "register"),
        )
    )
    answer = answer_question("link", entry, Knowledge((entry,)), Lang.TH)
    assert [link.url for link in answer.links] == [
        "https://example.org/apply",
        "https://example.org",
    ]
    # a plain "what is" shows just one link
    assert len(answer_question("what_is", entry, Knowledge((entry,)), Lang.TH).links) == 1


def test_suggestions_offer_what_else_is_known() -> None:
    related = make_entry(id="depa", short=Text("ดีป้า", "depa"))
    entry = make_entry(
        related=("depa",),
        links=(Link(Text("สมัคร", "apply"), "https://example.org/apply", "register"),),
    )
    suggestions = suggest_for(
        [entry], asked="what_is", knowledge=Knowledge((entry, related)), lang=Lang.TH
    )
    assert suggestions[0] == "ลิงก์ ชื่อ"
    assert "ดีป้า คืออะไร" in suggestions
    assert 2 <= len(suggestions) <= 4


def test_a_list_the_sources_call_incomplete_is_not_called_complete() -> None:
    entry = make_entry(
        members=(Member(name=Text("ก", "a")), Member(name=Text("ข", "b"))),
        unconfirmed=(Unconfirmed(Text("รายชื่อยังไม่ครบ", "The list is incomplete"), "members"),),
    )
    text = answer_question("members", entry, Knowledge((entry,)), Lang.EN).text
    assert "2 known so far" in text and "in all" not in text
    assert "Note: The list is incomplete" in text
