"""Group what the bot could not answer, so an operator reviews topics, not single messages.

Pure (no I/O): logged messages in, groups out. Messages are compared by TF-IDF over
character n-grams of their normalised text, which tolerates Thai spelling variants and
typos without a tokenizer. Each group is led by its earliest message; a message joins the
earliest group whose leader it resembles (cosine ≥ `SIMILAR`), or leads a new one. Leaders
are taken in id order, so a group keeps its id (its leader's) as new messages arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

SIMILAR = 0.5
"""Cosine at which two questions count as one topic (tuned on tests/test_review.py)."""
MAX_EXAMPLES = 5
"""Distinct original wordings shown per group."""
CHUNK = 1000
"""Rows of the similarity matrix computed at a time: memory stays O(CHUNK × distinct texts)."""
OPEN = ("new", "low_confidence")
"""Statuses that still need an operator's look; `promoted` and `ignored` are done."""
STATUSES = (*OPEN, "promoted", "ignored")


@dataclass(frozen=True)
class Logged:
    """One message in the unanswered log."""

    id: int
    text: str
    normalised: str
    status: str
    intent: str | None
    confidence: float
    entities: tuple[str, ...]
    created_at: datetime
    reply: str | None = None


@dataclass(frozen=True)
class UnansweredGroup:
    """Similar logged messages: one row in `unanswered list` and the admin inbox."""

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
    message_ids: tuple[int, ...]
    reply: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The shape of `smartcity-bot unanswered list --json` (other tools read it)."""
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
            "reply": self.reply,
            "message_ids": list(self.message_ids),
        }


def group_messages(
    messages: Sequence[Logged], *, similar: float = SIMILAR
) -> list[UnansweredGroup]:
    """Similar messages of the same status grouped; most asked first, then most recent."""
    groups: list[UnansweredGroup] = []
    for status in dict.fromkeys(message.status for message in messages):
        same = sorted((m for m in messages if m.status == status), key=lambda m: m.id)
        groups.extend(summarise(members) for members in cluster(same, similar))
    return sorted(groups, key=lambda g: (-g.count, -g.last_seen.timestamp(), g.id))


def cluster(messages: Sequence[Logged], similar: float) -> list[list[Logged]]:
    """Leader clustering over distinct normalised texts (messages sorted by id)."""
    by_text: dict[str, list[Logged]] = {}
    for message in messages:
        by_text.setdefault(message.normalised or message.text, []).append(message)
    texts = list(by_text)
    if len(texts) < 2:
        return list(by_text.values())
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    try:
        matrix = vectors.fit_transform(texts)
    except ValueError:  # nothing but whitespace or one-character texts: no n-grams to compare
        return list(by_text.values())
    leader_of = np.full(len(texts), -1)
    is_leader = np.zeros(len(texts), dtype=bool)
    for start in range(0, len(texts), CHUNK):
        similarity = (matrix[start : start + CHUNK] @ matrix.T).toarray()
        for offset, row in enumerate(similarity):
            index = start + offset
            candidates = np.flatnonzero(is_leader[:index] & (row[:index] >= similar))
            if candidates.size:
                leader_of[index] = candidates[0]
            else:
                leader_of[index], is_leader[index] = index, True
    members: dict[int, list[Logged]] = {}
    for index, text in enumerate(texts):
        members.setdefault(int(leader_of[index]), []).extend(by_text[text])
    return [sorted(group, key=lambda m: m.id) for group in members.values()]


def summarise(members: Sequence[Logged]) -> UnansweredGroup:
    """A group as operators see it: its first wording, counts, and the latest guess."""
    first, latest = members[0], max(members, key=lambda m: (m.created_at, m.id))
    examples = tuple(dict.fromkeys(m.text for m in reversed(members)))[:MAX_EXAMPLES]
    return UnansweredGroup(
        id=first.id,
        text=first.text,
        normalised=first.normalised,
        count=len(members),
        first_seen=min(m.created_at for m in members),
        last_seen=latest.created_at,
        examples=examples,
        status=first.status,
        intent=latest.intent,
        confidence=latest.confidence,
        entities=latest.entities,
        message_ids=tuple(m.id for m in members),
        reply=latest.reply,
    )


def find_group(groups: Sequence[UnansweredGroup], group_id: int) -> UnansweredGroup | None:
    """The group with this id, or the one holding a message with this id."""
    for group in groups:
        if group.id == group_id:
            return group
    return next((g for g in groups if group_id in g.message_ids), None)
