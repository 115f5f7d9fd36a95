from __future__ import annotations

import pytest

from bot.normalise import ENGINES, Tokenizer, is_english, normalise, skeleton


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＣＳＣＯ", "csco"),  # full-width letters
        ("๗ สมาร์ท", "7 สมาร์ท"),  # Thai digits
        ("ดี\u200bป้า", "ดีป้า"),  # zero-width space
        ("ดี\ufeffป้า\u200d", "ดีป้า"),  # BOM and zero-width joiner
        ("ดีป้า\x07\x00", "ดีป้า"),  # control characters
        ("มากกกกกก", "มาก"),  # stretched Thai letters
        ("ค่าาาาา", "ค่า"),  # stretched vowel
        ("sooooo good", "soo good"),  # stretched Latin letters keep a double
        ("เเม่เมาะ", "แม่เมาะ"),  # two sara e typed for sara ae
        ("  NIA   คือ \n ", "nia คือ"),  # spaces and case
        ("2564", "2564"),  # digits are never collapsed
    ],
)
def test_normalise_folds_how_people_type(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_reorders_tone_marks() -> None:
    # tone mark typed before the vowel sara am-like upper vowel: same word after normalising
    assert normalise("ที่") == normalise("ท\u0e48\u0e35")


def test_normalise_is_idempotent() -> None:
    text = "รบกวนสอบถามค่าาา ＣＳＣＯ ๒๕๖๔ มากกกก"
    assert normalise(normalise(text)) == normalise(text)


def test_skeleton_ignores_tone_marks() -> None:
    assert skeleton("ดีป่า") == skeleton("ดีป้า")
    assert skeleton("ขอนแก้น") == skeleton("ขอนแก่น")
    assert skeleton("ภูเก็ต") != skeleton("ภูเขา")


def test_is_english() -> None:
    assert is_english("what does tistr do?")
    assert not is_english("tistr ทำอะไร")
    assert not is_english("555")


@pytest.mark.parametrize("engine", ENGINES)
def test_tokenizer_keeps_knowledge_names_whole(engine: str) -> None:
    plain = Tokenizer(engine=engine)("สามย่านสมาร์ทซิตี้อยู่ไหน")
    assert "สามย่านสมาร์ทซิตี้" not in plain
    custom = Tokenizer(["สามย่านสมาร์ทซิตี้"], engine=engine)("สามย่านสมาร์ทซิตี้อยู่ไหน")
    assert custom == ["สามย่านสมาร์ทซิตี้", "อยู่", "ไหน"]


@pytest.mark.parametrize("engine", ENGINES)
def test_tokenizer_drops_whitespace_tokens(engine: str) -> None:
    assert Tokenizer(engine=engine)("ขอนแก่น  อยู่ไหน") == ["ขอนแก่น", "อยู่", "ไหน"]


def test_tokenizer_rejects_unknown_engine() -> None:
    with pytest.raises(ValueError, match="unknown tokenizer engine 'deepcut'"):
        Tokenizer(engine="deepcut")
