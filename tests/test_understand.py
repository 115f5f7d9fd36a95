from __future__ import annotations

import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from bot.core import Bot
from bot.domain import Knowledge, TrainingData
from bot.normalise import Tokenizer, normalise
from bot.understand import (
    ENTITY_PLACEHOLDER,
    EntityLinker,
    alias_words,
    build_intent_pipeline,
    mask_mentions,
    predict_one,
)


@pytest.fixture(scope="module")
def linker(tiny: tuple[Knowledge, TrainingData]) -> EntityLinker:
    knowledge, _ = tiny
    return EntityLinker(knowledge, Tokenizer(alias_words(knowledge.entries)))


def linked(linker: EntityLinker, text: str) -> list[tuple[str, ...]]:
    return [m.candidates for m in linker.find(normalise(text))]


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("ดีป้าคืออะไร", "depa"),
        ("What is DEPA?", "depa"),
        ("ดีป่าทำไรบ้าง", "depa"),  # wrong tone mark
        ("ขอนแก้นมีแผนกี่ด้าน", "khon-kaen"),  # wrong tone mark
        ("ขอนแก่น เมืองอัจฉริยะ อยู่ไหน", "khon-kaen"),  # spaced full name
        ("หลักสูตรนักพัฒนาเมืองอัจริยะน่าอยู่", "csco"),  # อัจริยะ: one letter missing
        ("การนิคมอุตสาหกรรมแห่งประเทศไท", "ieat"),  # last letter missing
        ("ＣＳＣＯ", "csco"),
    ],
)
def test_linker_finds_entries_despite_typos(linker: EntityLinker, text: str, entity: str) -> None:
    assert linked(linker, text) == [(entity,)]


def test_latin_names_do_not_match_inside_words(linker: EntityLinker) -> None:
    assert linked(linker, "my depatment in california") == []


def test_short_names_are_not_fuzzy_matched(linker: EntityLinker) -> None:
    # "กนอ" one letter off is another word; only names of 5+ letters tolerate typos
    assert linked(linker, "กนห คืออะไร") == []


def test_shared_alias_gives_an_ambiguous_mention(linker: EntityLinker) -> None:
    (mention,) = linker.find(normalise("MOU คืออะไร"))
    assert mention.ambiguous
    assert set(mention.candidates) == {"ieat-nia-mou", "tistr-mou"}


def test_longest_name_wins(linker: EntityLinker) -> None:
    assert linked(linker, "ขอนแก่นเมืองอัจฉริยะ") == [("khon-kaen",)]


def test_mentions_are_masked_for_the_intent_model(linker: EntityLinker) -> None:
    text = normalise("ดีป่า อยู่ที่ไหน")
    assert mask_mentions(text, linker.find(text)) == f"{ENTITY_PLACEHOLDER} อยู่ที่ไหน"


def test_pipeline_refuses_to_predict_before_fit() -> None:
    with pytest.raises(NotFittedError):
        build_intent_pipeline().predict(["สวัสดี"])


def test_pipeline_is_a_clonable_estimator(tiny_bot: Bot) -> None:
    fresh = clone(tiny_bot.pipeline)
    assert (
        fresh.get_params()["clf__estimator__C"]
        == tiny_bot.pipeline.get_params()["clf__estimator__C"]
    )
    with pytest.raises(NotFittedError):
        fresh.predict(["สวัสดี"])


def test_pipeline_probabilities_are_calibrated(tiny_bot: Bot) -> None:
    probabilities = tiny_bot.pipeline.predict_proba(["ดูดวงวันนี้", "entity อยู่ที่ไหน"])
    assert probabilities.sum(axis=1) == pytest.approx([1.0, 1.0])
    classes = list(tiny_bot.pipeline.classes_)
    assert classes[probabilities[0].argmax()] == "out_of_scope"
    assert classes[probabilities[1].argmax()] == "where"


def test_fast_prediction_equals_scikit_learns(tiny_bot: Bot) -> None:
    texts = ["ดูดวงวันนี้", "entity อยู่ที่ไหน", "สมัครยังไง", "hello", "", "ขอบคุณค่ะ entity"]
    expected = tiny_bot.pipeline.predict_proba(texts)
    for text, row in zip(texts, expected, strict=True):
        assert predict_one(tiny_bot.pipeline, text) == pytest.approx(row, abs=1e-9)
