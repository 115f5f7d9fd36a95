"""Understanding a normalised message: what kind of question (intent) and about what (entities).

The intent model is a plain scikit-learn `Pipeline` (tokens → TF-IDF word and character
n-grams → calibrated linear SVM), so cross-validation, `clone` and the public-data
benchmark all work on exactly the code the bot runs. Entities are found by their names
and aliases, tolerating tone-mark slips and small typos.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from scipy import sparse
from scipy.special import expit
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.domain import Entry, Knowledge
from bot.normalise import DEFAULT_ENGINE, Tokenizer, normalise, skeleton

ENTITY_PLACEHOLDER = "entity"
"""Linked names are replaced by this word before classifying, so the intent model learns the
question's wording ("…อยู่ที่ไหน") rather than which names happened to be in the examples."""

SVM_C = 0.5
"""Chosen by 5-fold cross-validation on intents/ (0.25–2 were within noise; see README)."""
CALIBRATION_FOLDS = 3
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (1, 4)
"""Word-bounded character 1–4-grams catch misspellings that whole-word features miss."""

FUZZY_MIN_LENGTH = 5
"""Names shorter than this are matched exactly only: "สนช" one letter off is another word."""
FUZZY_LONG_LENGTH = 9
THAI = re.compile(r"[\u0e00-\u0e7f]")
"""Only Thai names are matched fuzzily: English words sit one letter apart too often
("smart" / "7smart", "mice" / "nice"), and English typos are rarer in this audience."""
FUZZY_MAX_EDITS = 2


def split_tokens(text: str) -> list[str]:
    """Module-level so a fitted pipeline can be pickled."""
    return text.split()


class ThaiTokens(TransformerMixin, BaseEstimator):
    """Raw text → normalised, space-joined word tokens (the features' input)."""

    def __init__(self, words: Sequence[str] = (), engine: str = DEFAULT_ENGINE) -> None:
        self.words = words
        self.engine = engine

    def fit(self, texts: Iterable[str], y: object = None) -> ThaiTokens:
        self.tokenizer_ = Tokenizer(self.words, engine=self.engine)
        return self

    def transform(self, texts: Iterable[str]) -> list[str]:
        tokenize = self.tokenizer_
        return [" ".join(tokenize(normalise(text))) for text in texts]


def build_intent_pipeline(
    *, words: Sequence[str] = (), engine: str = DEFAULT_ENGINE, c: float = SVM_C
) -> Pipeline:
    """The intent classifier: the same object is trained by the bot, `evaluate` and `bench/`."""
    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    tokenizer=split_tokens,
                    token_pattern=None,  # the default pattern cuts Thai words at vowels
                    lowercase=False,
                    ngram_range=WORD_NGRAMS,
                    sublinear_tf=True,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", lowercase=False, ngram_range=CHAR_NGRAMS, sublinear_tf=True
                ),
            ),
        ]
    )
    classifier = CalibratedClassifierCV(
        LinearSVC(C=c), cv=CALIBRATION_FOLDS, method="sigmoid", ensemble=False
    )
    return Pipeline(
        [
            ("tokens", ThaiTokens(words=words, engine=engine)),
            ("features", features),
            ("clf", classifier),
        ]
    )


@dataclass(frozen=True)
class Mention:
    """A span of the normalised message that names one or more entries."""

    start: int
    end: int
    surface: str
    candidates: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


class EntityLinker:
    """Finds knowledge entries named in a normalised message.

    Exact matching runs on tone-mark-free text ("ขอนแก้น" finds ขอนแก่น); token windows
    left unmatched are compared with long names by edit distance ("วังจันวัลเล่ย์").
    """

    def __init__(self, knowledge: Knowledge, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        by_form: dict[str, set[str]] = defaultdict(set)
        for entry in knowledge.entries:
            for name in (*entry.names(), *entry.questions):
                form = match_key(normalise(name))[0]
                if form:
                    by_form[form].add(entry.id)
        self.by_form = {form: tuple(sorted(ids)) for form, ids in by_form.items()}
        forms = sorted(self.by_form, key=len, reverse=True)
        self.pattern = re.compile("|".join(bounded(form) for form in forms)) if forms else None
        self.by_length: dict[int, list[str]] = defaultdict(list)
        for form in forms:
            if len(form) >= FUZZY_MIN_LENGTH and THAI.search(form):
                self.by_length[len(form)].append(form)
        self.max_form_length = len(forms[0]) if forms else 0

    def find(self, text: str) -> list[Mention]:
        """Mentions in `text` (already normalised), in order of appearance."""
        if self.pattern is None:
            return []
        key, positions = match_key(text)
        exact = []
        for match in self.pattern.finditer(key):
            start, end = positions[match.start()], positions[match.end() - 1] + 1
            exact.append(Mention(start, end, text[start:end], self.by_form[match.group()]))
        fuzzy = self.find_fuzzy(text, key, positions, exact=exact)
        kept = [m for m in exact if not any(f.start <= m.start and m.end <= f.end for f in fuzzy)]
        return sorted([*kept, *fuzzy], key=lambda m: m.start)

    def find_fuzzy(
        self, text: str, key: str, positions: list[int], *, exact: Sequence[Mention]
    ) -> list[Mention]:
        """Compare the message's token windows, longest first, with names of similar length.

        A window may swallow exact matches it wholly contains when it matches a longer name:
        "คุ่มือเมืองอัจฉริยะ" is the handbook, not "เมืองอัจฉริยะ" with noise in front.
        """
        spans = token_spans(text, self.tokenizer(text))
        key_index = [0] * (len(text) + 1)  # text position → how many key characters precede it
        for position in positions:
            key_index[position + 1] = 1
        for i in range(len(text)):
            key_index[i + 1] += key_index[i]
        windows = []
        for i in range(len(spans)):
            for j in range(i, len(spans)):
                start, end = spans[i][0], spans[j][1]
                window = key[key_index[start] : key_index[end]]
                if len(window) > self.max_form_length + FUZZY_MAX_EDITS:
                    break
                if len(window) >= FUZZY_MIN_LENGTH:
                    windows.append((start, end, window))
        found: list[Mention] = []
        for start, end, window in sorted(windows, key=lambda w: len(w[2]), reverse=True):
            if any(f.start < end and start < f.end for f in found):
                continue
            inside = [m for m in exact if m.start < end and start < m.end]
            if any(m.start < start or m.end > end for m in inside):
                continue  # would cut an exact name in two
            longest_inside = max((key_index[m.end] - key_index[m.start] for m in inside), default=0)
            form = self.closest_form(window, max_edits=1 if inside else FUZZY_MAX_EDITS)
            if form is not None and len(form) > longest_inside:
                found.append(Mention(start, end, text[start:end], self.by_form[form]))
        return found

    def closest_form(self, window: str, *, max_edits: int = FUZZY_MAX_EDITS) -> str | None:
        """The name within its allowed edit distance of `window`, if any.

        Overriding an exact name needs a closer match (`max_edits=1`): "เว็บสมาคมเพื่อนชุมชน"
        is the association, not "วว. สมาคมเพื่อนชุมชน" two edits away."""
        candidates = [
            form
            for length in range(len(window) - FUZZY_MAX_EDITS, len(window) + FUZZY_MAX_EDITS + 1)
            for form in self.by_length.get(length, ())
        ]
        best = process.extractOne(
            window, candidates, scorer=Levenshtein.distance, score_cutoff=FUZZY_MAX_EDITS
        )
        if best is None or best[1] > min(allowed_edits(best[0]), max_edits):
            return None
        return best[0]


def allowed_edits(form: str) -> int:
    """Typos tolerated in a name: none when short, one for a word, two for a long name."""
    if len(form) < FUZZY_MIN_LENGTH:
        return 0
    return 1 if len(form) < FUZZY_LONG_LENGTH else FUZZY_MAX_EDITS


def bounded(form: str) -> str:
    """Latin names must not match inside longer words ("nia" in "california")."""
    pattern = re.escape(form)
    if form[0].isascii() and form[0].isalnum():
        pattern = r"(?<![a-z0-9])" + pattern
    if form[-1].isascii() and form[-1].isalnum():
        pattern += r"(?![a-z0-9])"
    return pattern


def match_key(text: str) -> tuple[str, list[int]]:
    """The form names are matched in, and for each of its characters the index in `text`.

    Tone marks are dropped (people slip on them) and so are spaces next to Thai letters
    (Thai spacing is a matter of taste: "ขอนแก่น เมืองอัจฉริยะ" is one name).

    >>> match_key("ขอนแก้น เมือง")[0]
    'ขอนแกนเมือง'
    """
    kept = []
    for i, ch in enumerate(text):
        if not skeleton(ch):
            continue
        if ch == " " and (is_thai(text[i - 1 : i]) or is_thai(text[i + 1 : i + 2])):
            continue
        kept.append((i, ch))
    return "".join(ch for _, ch in kept), [i for i, _ in kept]


def is_thai(char: str) -> bool:
    return "\u0e00" <= char <= "\u0e7f" if char else False


def token_spans(text: str, tokens: list[str]) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for token in tokens:
        start = text.find(token, cursor)
        if start < 0:
            continue
        spans.append((start, start + len(token)))
        cursor = start + len(token)
    return spans


def mask_mentions(text: str, mentions: Sequence[Mention]) -> str:
    """Replace each mention by the placeholder the intent model was trained with."""
    for mention in sorted(mentions, key=lambda m: m.start, reverse=True):
        text = f"{text[: mention.start]} {ENTITY_PLACEHOLDER} {text[mention.end :]}"
    return " ".join(text.split())


def rank_intents(pipeline: Pipeline, text: str) -> list[tuple[str, float]]:
    """All intents with their calibrated probability, most likely first."""
    probabilities = predict_one(pipeline, text)
    order = np.argsort(probabilities)[::-1]
    classes = pipeline.classes_
    return [(str(classes[i]), float(probabilities[i])) for i in order]


def predict_one(pipeline: Pipeline, text: str) -> np.ndarray:
    """`pipeline.predict_proba([text])[0]`, without scikit-learn's per-call input checks.

    For one short message the checks (dataframe detection, validation) cost more than the
    maths, about 1 ms of a 3 ms reply. This does the same arithmetic on the fitted parameters
    (tests/test_understand.py checks it equals `predict_proba`); shapes it does not cover go
    to scikit-learn.
    """
    calibrated = pipeline.named_steps["clf"]
    if len(calibrated.classes_) < 3 or len(calibrated.calibrated_classifiers_) != 1:
        return pipeline.predict_proba([text])[0]
    tokens = pipeline.named_steps["tokens"].transform([text])
    union = pipeline.named_steps["features"]
    features = sparse.hstack([step.transform(tokens) for _, step in union.transformer_list])
    fitted = calibrated.calibrated_classifiers_[0]
    svm = fitted.estimator
    decision = np.asarray(features @ svm.coef_.T).ravel() + svm.intercept_
    a = np.array([c.a_ for c in fitted.calibrators])
    b = np.array([c.b_ for c in fitted.calibrators])
    probabilities = expit(-(a * decision + b))
    total = probabilities.sum()
    if total == 0:
        return np.full_like(probabilities, 1 / len(probabilities))
    return probabilities / total


def alias_words(entries: Iterable[Entry]) -> tuple[str, ...]:
    """Every entry name, for the tokenizer's dictionary."""
    return tuple(sorted({name for entry in entries for name in entry.names()}))
