"""How good is the bot? Cross-validation of the intent model and scoring of a held-out test set.

Used by `smartcity-bot evaluate` and `bench/`. Pure computation: the caller loads the files
and writes the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.model_selection import StratifiedKFold

from bot.core import Bot, mask_for_training
from bot.domain import Context, Reply, TrainingData
from bot.normalise import normalise

FOLLOW_UP_SECONDS = 5.0
"""Simulated time between turns of a held-out conversation (well inside the context window)."""

TARGETS = {"in_scope": 0.95, "out_of_scope": 0.90, "follow_up": 0.90}
"""The quality bar from the issue: share of questions handled correctly."""


@dataclass
class IntentReport:
    """Cross-validated quality of the intent model alone."""

    accuracy: float
    macro_f1: float
    fold_accuracies: list[float]
    labels: list[str]
    per_intent: dict[str, dict[str, float]]
    confusion: list[list[int]]
    confused_pairs: list[tuple[str, str, int]]


def cross_validate(
    bot: Bot,
    training: TrainingData,
    *,
    folds: int = 5,
    seed: int = 0,
    progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
) -> IntentReport:
    """k-fold cross-validation of the bot's own pipeline on `intents/`, names masked as in use."""
    texts = np.array([mask_for_training(bot.linker, e.text) for e in training.examples])
    labels = np.array([e.intent for e in training.examples])
    predicted = np.empty_like(labels)
    fold_accuracies = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_index, test_index in progress(list(splitter.split(texts, labels))):
        model = clone(bot.pipeline).fit(texts[train_index], labels[train_index])
        predicted[test_index] = model.predict(texts[test_index])
        fold_accuracies.append(accuracy_score(labels[test_index], predicted[test_index]))
    names = sorted(set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=names, zero_division=0
    )
    matrix = confusion_matrix(labels, predicted, labels=names)
    pairs = [
        (names[i], names[j], int(matrix[i, j]))
        for i in range(len(names))
        for j in range(len(names))
        if i != j and matrix[i, j]
    ]
    return IntentReport(
        accuracy=float(accuracy_score(labels, predicted)),
        macro_f1=float(f1_score(labels, predicted, average="macro")),
        fold_accuracies=[float(a) for a in fold_accuracies],
        labels=names,
        per_intent={
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(names)
        },
        confusion=matrix.tolist(),
        confused_pairs=sorted(pairs, key=lambda pair: -pair[2])[:10],
    )


@dataclass(frozen=True)
class Expectation:
    answered: bool
    entity: str | None = None
    intent: str | None = None
    contains: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Turn:
    text: str
    expect: Expectation


@dataclass(frozen=True)
class Case:
    id: str
    tags: tuple[str, ...]
    turns: tuple[Turn, ...]


@dataclass
class TurnResult:
    case: str
    turn: int
    text: str
    category: str
    correct: bool
    problems: list[str]
    reply: dict[str, Any]


@dataclass
class HeldOutReport:
    results: list[TurnResult] = field(default_factory=list)

    def score(self, category: str) -> tuple[int, int]:
        chosen = [r for r in self.results if r.category == category]
        return sum(r.correct for r in chosen), len(chosen)

    def rate(self, category: str) -> float:
        correct, total = self.score(category)
        return correct / total if total else 0.0

    @property
    def failures(self) -> list[TurnResult]:
        return [r for r in self.results if not r.correct]

    def passes_targets(self) -> bool:
        return all(self.rate(category) >= target for category, target in TARGETS.items())


def parse_cases(data: dict[str, Any]) -> list[Case]:
    """The held-out file's `cases:` → `Case`s; a `contains` item is a string or any-of list."""
    cases = []
    for raw in data["cases"]:
        turns = []
        for turn in raw["turns"]:
            expect = turn["expect"]
            contains = tuple(
                (item,) if isinstance(item, str) else tuple(str(alt) for alt in item)
                for item in expect.get("contains", [])
            )
            turns.append(
                Turn(
                    text=str(turn["text"]),
                    expect=Expectation(
                        answered=bool(expect["answered"]),
                        entity=expect.get("entity"),
                        intent=expect.get("intent"),
                        contains=contains,
                    ),
                )
            )
        cases.append(Case(id=str(raw["id"]), tags=tuple(raw.get("tags", [])), turns=tuple(turns)))
    return cases


def check_reply(reply: Reply, expect: Expectation) -> list[str]:
    """What is wrong with `reply` (empty when it is right)."""
    problems = []
    if reply.answered != expect.answered:
        problems.append(
            f"answered={reply.answered} ({reply.status.value}), expected {expect.answered}"
        )
    if expect.entity and expect.entity not in reply.entities:
        problems.append(f"entities {list(reply.entities)}, expected {expect.entity}")
    haystack = normalise(" ".join([reply.text, *(link.url for link in reply.links)]))
    for alternatives in expect.contains:
        if not any(normalise(alt) in haystack for alt in alternatives):
            problems.append(f"missing {' | '.join(alternatives)}")
    return problems


def category_of(case: Case, turn_index: int) -> str:
    if turn_index > 0:
        return "follow_up"
    return "in_scope" if case.turns[0].expect.answered else "out_of_scope"


def run_held_out(
    bot: Bot,
    cases: Sequence[Case],
    *,
    progress: Callable[[Iterable[Any]], Iterable[Any]] = iter,
) -> HeldOutReport:
    """Play every case as a fresh conversation, turn by turn, and check each reply."""
    report = HeldOutReport()
    for case in progress(cases):
        context: Context | None = None
        for index, turn in enumerate(case.turns):
            reply = bot.reply(turn.text, context, now=index * FOLLOW_UP_SECONDS)
            context = reply.context
            problems = check_reply(reply, turn.expect)
            report.results.append(
                TurnResult(
                    case=case.id,
                    turn=index,
                    text=turn.text,
                    category=category_of(case, index),
                    correct=not problems,
                    problems=problems,
                    reply=reply.as_dict(),
                )
            )
    return report


def intent_agreement(report: HeldOutReport, cases: Sequence[Case]) -> float:
    """Share of turns with an expected intent whose reply had that intent (a diagnostic)."""
    expected = {(c.id, i): t.expect.intent for c in cases for i, t in enumerate(c.turns)}
    pairs = [(expected[(r.case, r.turn)], r.reply["intent"]) for r in report.results]
    pairs = [(e, got) for e, got in pairs if e]
    return sum(e == got for e, got in pairs) / len(pairs) if pairs else 0.0


def count_tags(cases: Sequence[Case]) -> Counter[str]:
    return Counter(tag for case in cases for tag in case.tags)
