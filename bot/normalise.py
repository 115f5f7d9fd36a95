"""Thai text normalisation and word tokenisation: the first step of every message.

People type on LINE with full-width letters, Thai digits, zero-width spaces, stretched
words ("มากกกก") and tone marks in the wrong order; all of it is folded here so the later
steps see one spelling.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pythainlp.util import normalize as pythainlp_normalize
from pythainlp.util import thai_digit_to_arabic_digit

ENGINES = ("newmm", "nlpo3")
DEFAULT_ENGINE = "nlpo3"
"""nlpo3 starts faster than newmm and answers as fast (bench/speed.py; figures in README)."""

INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff\u00ad]")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
THAI_REPEAT = re.compile(r"([\u0e01-\u0e2e\u0e30-\u0e4e])\1{2,}")
"""Three or more of the same Thai letter are a stretched word ("มากกกก"); no Thai word has them."""
LATIN_REPEAT = re.compile(r"([a-z])\1{2,}")
"""English has double letters ("too") but not triples ("sooo")."""
SPACES = re.compile(r"\s+")
TONE_MARKS = re.compile(r"[\u0e47-\u0e4c]")
"""Mai tai khu, the four tone marks and thanthakhat: the marks people most often get wrong."""
THAI_LETTER = re.compile(r"[\u0e00-\u0e7f]")
LATIN_LETTER = re.compile(r"[A-Za-z]")


def normalise(text: str) -> str:
    """Fold the ways people type the same words into one spelling.

    >>> normalise("ＮＩＡ คือ")
    'nia คือ'
    >>> normalise("๗ สมาร์ท")
    '7 สมาร์ท'
    >>> normalise("ดี\u200bป้า  มากกกกก!!")
    'ดีป้า มาก!!'
    >>> normalise("เเม่เมาะ")
    'แม่เมาะ'
    """
    text = unicodedata.normalize("NFKC", text)
    text = INVISIBLE.sub("", text)
    text = CONTROL.sub(" ", text)
    text = thai_digit_to_arabic_digit(text)
    text = text.lower()
    text = THAI_REPEAT.sub(r"\1", text)
    text = LATIN_REPEAT.sub(r"\1\1", text)
    text = pythainlp_normalize(text)
    return SPACES.sub(" ", text).strip()


def skeleton(text: str) -> str:
    """Drop tone marks so "ดีป่า" and "ดีป้า" compare equal when tolerating typos.

    >>> skeleton("ขอนแก้น") == skeleton("ขอนแก่น")
    True
    """
    return TONE_MARKS.sub("", text)


def is_english(text: str) -> bool:
    """A message with Latin letters and no Thai is answered in English."""
    return bool(LATIN_LETTER.search(text)) and not THAI_LETTER.search(text)


class Tokenizer:
    """Word tokeniser that keeps knowledge names whole ("สามย่านสมาร์ทซิตี้").

    >>> Tokenizer(["สามย่านสมาร์ทซิตี้"], engine="newmm")("สามย่านสมาร์ทซิตี้อยู่ไหน")
    ['สามย่านสมาร์ทซิตี้', 'อยู่', 'ไหน']
    """

    def __init__(self, words: Iterable[str] = (), engine: str = DEFAULT_ENGINE) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown tokenizer engine {engine!r}; choose one of {ENGINES}")
        self.engine = engine
        self.words = frozenset(normalise(w) for w in words if THAI_LETTER.search(w))
        self._segment = segmenter(self.words, engine)

    def __call__(self, text: str) -> list[str]:
        return [token for token in self._segment(text) if not token.isspace()]

    def __reduce__(self) -> tuple[type, tuple[frozenset[str], str]]:
        return (Tokenizer, (self.words, self.engine))


@lru_cache(maxsize=8)
def segmenter(words: frozenset[str], engine: str):  # type: ignore[no-untyped-def]
    """Build (once per word set) the engine's segment function with the extra words."""
    if engine == "newmm":
        from pythainlp.corpus import thai_words
        from pythainlp.tokenize import newmm
        from pythainlp.util import dict_trie

        trie = dict_trie(thai_words() | words)
        return lambda text: newmm.segment(text, custom_dict=trie)
    from pythainlp.tokenize import nlpo3

    name = "smartcity-" + hashlib.sha256("\n".join(sorted(words)).encode()).hexdigest()[:16]
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
        handle.write(thai_words_text())
        handle.write("\n" + "\n".join(sorted(words)))
        handle.flush()
        nlpo3.load_dict(handle.name, name)  # nlpo3 ignores custom_dict=; it reads a file
    return lambda text: nlpo3.segment(text, custom_dict=name)


def thai_words_text() -> str:
    """PyThaiNLP's word list as text, read from its file: `thai_words()` would keep a
    62,000-string set alive for the whole process (17 MB) that nlpo3 does not need."""
    from pythainlp.corpus import corpus_path, thai_words

    path = Path(corpus_path()) / "words_th.txt"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    return "\n".join(sorted(thai_words()))
