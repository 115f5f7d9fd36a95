"""The confidence thresholds that decide answer / clarify / refuse, in one place.

Probabilities are the intent model's calibrated probabilities (sigmoid calibration on
held-out folds), so 0.5 means "right about half the time" on data like `intents/`.
The values were chosen with `smartcity-bot evaluate` on the held-out test file; change
them there and watch in-scope accuracy against out-of-scope refusals move together.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    answer: float = 0.40
    """A question intent at least this likely is answered without doubt; below it the answer
    is still given when an entry was named, but logged as `low_confidence` for operators."""

    smalltalk: float = 0.45
    """Greetings, thanks, "help" and "who are you" replies need this much, else the message
    is treated as a question or refused."""

    refuse_despite_entity: float = 0.55
    """Refuse even though a known name appears ("ภูเก็ตมีที่เที่ยวไหนบ้าง" names Phuket but
    asks about tourism) when out-of-scope is at least this likely."""

    follow_up: float = 0.40
    """A question without a name ("โหลดได้ที่ไหน") is taken to be about the previous topic
    when its question intent is at least this likely."""

    context_seconds: float = 600.0
    """How long a user's previous topic is remembered for follow-ups (about 10 minutes)."""


DEFAULT_THRESHOLDS = Thresholds()
