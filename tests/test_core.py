from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.core import Bot
from bot.domain import Context, Lang, Status
from tests.conftest import TINY_THRESHOLDS

CORE_MODULES = (
    "domain",
    "errors",
    "normalise",
    "understand",
    "answer",
    "core",
    "evaluate",
    "thresholds",
)
EDGE_LIBRARIES = {
    "fastapi",
    "linebot",
    "sqlalchemy",
    "yaml",
    "ruamel",
    "click",
    "uvicorn",
    "aiohttp",
}


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_modules_do_no_io(module: str) -> None:
    """The core must stay testable without network, files or a database."""
    source = (Path(__file__).parent.parent / "bot" / f"{module}.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & EDGE_LIBRARIES
    assert "os.environ" not in source


def test_a_bare_name_asks_what_it_is(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("ซีเอสซีโอ")
    assert reply.status is Status.ANSWERED
    assert reply.intent == "what_is"
    assert reply.entities == ("csco",)
    assert "https://bit.ly/depa-csco" in [link.url for link in reply.links]
    assert 2 <= len(reply.suggestions) <= 4


def test_answers_only_what_was_asked(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("ดีป้าอยู่ที่ไหน")
    assert reply.intent == "where"
    assert "ลาดพร้าว" in reply.text
    assert "ณัฐพล" not in reply.text  # people are for "who", not "where"


def test_english_question_gets_an_english_answer(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("What is depa?")
    assert reply.lang is Lang.EN
    assert "digital economy" in reply.text.lower()
    assert not any("\u0e00" <= ch <= "\u0e7f" for ch in reply.text)


def test_follow_up_asks_the_same_question_about_another_entry(tiny_bot: Bot) -> None:
    first = tiny_bot.reply("ขอนแก่นมีแผนกี่ด้าน", now=0.0)
    assert first.intent == "goal" and "7" in first.text
    second = tiny_bot.reply("แล้วแม่เมาะล่ะ", first.context, now=30.0)
    assert second.entities == ("mae-mo",)
    assert second.intent == "goal"
    assert "3 Smarts" in second.text


def test_follow_up_without_a_name_is_about_the_previous_topic(tiny_bot: Bot) -> None:
    first = tiny_bot.reply("CSCO คืออะไร", now=0.0)
    second = tiny_bot.reply("สมัครยังไง", first.context, now=60.0)
    assert second.answered
    assert second.entities == ("csco",)
    assert second.intent == "link"


def test_context_expires(tiny_bot: Bot) -> None:
    first = tiny_bot.reply("CSCO คืออะไร", now=0.0)
    later = TINY_THRESHOLDS.context_seconds + 1
    second = tiny_bot.reply("สมัครยังไง", first.context, now=later)
    assert not second.answered
    assert second.entities == ()


def test_bare_name_without_context_is_what_is_not_the_old_question(tiny_bot: Bot) -> None:
    first = tiny_bot.reply("ขอนแก่นมีแผนกี่ด้าน", now=0.0)
    expired = tiny_bot.reply("แม่เมาะ", first.context, now=10_000.0)
    assert expired.intent == "what_is"


def test_ambiguous_name_asks_which_one(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("MOU นี้เริ่มเมื่อไหร่")
    assert reply.status is Status.CLARIFY
    assert not reply.answered
    assert set(reply.entities) == {"ieat-nia-mou", "tistr-mou"}
    assert reply.text.startswith("หมายถึง ")
    assert len(reply.suggestions) == 2


def test_other_names_settle_an_ambiguous_one(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("MOU ของ กนอ เริ่มเมื่อไหร่")
    assert reply.entities == ("ieat-nia-mou",)  # the agreement, not the agency it names
    assert "2566" in reply.text and "2023" in reply.text


def test_previous_topic_settles_an_ambiguous_name(tiny_bot: Bot) -> None:
    context = Context(entities=("tistr-mou",), intent="what_is", at=0.0)
    reply = tiny_bot.reply("MOU คืออะไร", context, now=1.0)
    assert reply.entities == ("tistr-mou",)


def test_out_of_scope_is_refused_politely(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("ดูดวงวันนี้")
    assert reply.status is Status.UNANSWERED
    assert "ขออภัย" in reply.text
    assert reply.suggestions


def test_out_of_scope_with_a_known_place_is_still_refused(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("ร้านอาหารขอนแก่นอร่อย ๆ")
    assert not reply.answered


def test_refusal_keeps_the_previous_topic(tiny_bot: Bot) -> None:
    first = tiny_bot.reply("CSCO คืออะไร", now=0.0)
    refused = tiny_bot.reply("หวยออกอะไร", first.context, now=5.0)
    assert refused.context == first.context


@pytest.mark.parametrize(("text", "intent"), [("สวัสดีค่ะ", "greet"), ("ขอบคุณมากครับ", "thanks")])
def test_smalltalk_gets_a_friendly_reply(tiny_bot: Bot, text: str, intent: str) -> None:
    reply = tiny_bot.reply(text)
    assert reply.intent == intent
    assert reply.answered


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "?!"])
def test_empty_or_punctuation_only_messages_are_not_answered(tiny_bot: Bot, text: str) -> None:
    assert not tiny_bot.reply(text).answered


def test_reply_is_deterministic(tiny_bot: Bot) -> None:
    assert tiny_bot.reply("ดีป่าทำไรบ้าง") == tiny_bot.reply("ดีป่าทำไรบ้าง")


def test_training_without_examples_fails_loudly(tiny) -> None:  # type: ignore[no-untyped-def]
    knowledge, training = tiny
    empty = type(training)(examples=())
    with pytest.raises(ValueError, match="no training examples"):
        Bot.train(knowledge, empty)


def test_json_shape(tiny_bot: Bot) -> None:
    data = tiny_bot.reply("ลิงก์สมัคร CSCO").as_dict()
    assert set(data) >= {
        "answered",
        "intent",
        "confidence",
        "entities",
        "text",
        "links",
        "suggestions",
    }
    assert data["links"][0] == {"label": "สมัครเรียน", "url": "https://bit.ly/depa-csco"}


def test_a_question_type_can_be_deferred_to_another_entry(tiny_bot: Bot) -> None:
    reply = tiny_bot.reply("เมืองอัจฉริยะมีที่ไหนบ้าง")
    assert reply.entities == ("pilot-cities",)
    assert "ทั้งหมด 2 รายการ" in reply.text and "แม่เมาะ" in reply.text
    assert tiny_bot.reply("เมืองอัจฉริยะคืออะไร").entities == ("smart-city",)


def test_follow_up_can_pick_one_item_of_the_previous_list(tiny_bot: Bot) -> None:
    first = tiny_bot.reply("เมืองนำร่องมีที่ไหนบ้าง", now=0.0)
    assert first.entities == ("pilot-cities",)
    second = tiny_bot.reply("อันที่เป็นเมืองน่าอยู่ อยู่จังหวัดอะไร", first.context, now=5.0)
    assert second.entities == ("mae-mo",)  # "เมืองน่าอยู่" is part of แม่เมาะเมืองน่าอยู่
    assert "ลำปาง" in second.text


def test_question_words_find_details_inside_compound_words(tiny_bot: Bot) -> None:
    from bot.core import searchable, shared_letters

    target = searchable(tiny_bot.tokenizer, "การประชุมจัดที่อาคารดีป้า")
    assert shared_letters(frozenset({"ประชุม"}), target) == len("ประชุม")
    assert shared_letters(frozenset({"อาคาร"}), target) == 2 * len("อาคาร")  # a whole word
    assert shared_letters(frozenset({"ปี"}), target) == 0  # too short to count
