"""Plain, frozen data that flows through the bot: knowledge, training data and replies.

Nothing here does I/O; the files adapter builds these from YAML and every other
module only reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

THAI_MONTHS_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
ENGLISH_MONTHS_ABBR = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
BUDDHIST_ERA_OFFSET = 543  # พ.ศ. = ค.ศ. + 543

QUESTION_INTENTS = (
    "what_is", "where", "when", "who", "goal", "members", "requirements", "link", "contact",
)  # fmt: skip
"""Question types answered from a knowledge entry."""
SMALLTALK_INTENTS = ("greet", "thanks", "bye", "help", "identity")
OUT_OF_SCOPE = "out_of_scope"
KNOWN_INTENTS = (*QUESTION_INTENTS, *SMALLTALK_INTENTS, OUT_OF_SCOPE)
ENTRY_KINDS = (
    "agency", "city", "area", "course", "programme", "project", "publication", "agreement",
    "concept",
)  # fmt: skip
LINK_KINDS = ("website", "facebook", "register", "download", "news", "contact", "other")


class Lang(StrEnum):
    TH = "th"
    EN = "en"


@dataclass(frozen=True)
class Text:
    """The same words in Thai and in English."""

    th: str
    en: str

    def in_(self, lang: Lang) -> str:
        return self.en if lang is Lang.EN else self.th


@dataclass(frozen=True)
class PartialDate:
    """A Common-Era date that may lack its day or month, as news reports often do."""

    year: int
    month: int | None = None
    day: int | None = None

    def display(self, lang: Lang) -> str:
        """Show the date with both eras, so Thai readers and English readers both recognise it.

        >>> PartialDate(2021, 5, 6).display(Lang.TH)
        '6 พ.ค. 2564 (ค.ศ. 2021)'
        >>> PartialDate(2021, 5, 6).display(Lang.EN)
        '6 May 2021 (B.E. 2564)'
        >>> PartialDate(2027).display(Lang.TH)
        'พ.ศ. 2570 (ค.ศ. 2027)'
        """
        be = self.year + BUDDHIST_ERA_OFFSET
        if lang is Lang.EN:
            months = ENGLISH_MONTHS_ABBR
            suffix = f"{self.year} (B.E. {be})"
        else:
            months = THAI_MONTHS_ABBR
            suffix = f"{be} (ค.ศ. {self.year})"
        parts = []
        if self.day is not None:
            parts.append(str(self.day))
        if self.month is not None:
            parts.append(months[self.month - 1])
        if not parts and lang is Lang.TH:
            return f"พ.ศ. {suffix}"
        return " ".join([*parts, suffix])


@dataclass(frozen=True)
class Link:
    label: Text
    url: str
    kind: str = "website"


@dataclass(frozen=True)
class DatedEvent:
    date: PartialDate
    label: Text


@dataclass(frozen=True)
class Person:
    """A person's role is only true as of a dated source; the bot never says "currently"."""

    name: Text
    role: Text
    as_of: PartialDate


@dataclass(frozen=True)
class Member:
    """An item of a list: either another knowledge entry (`ref`) or a plain name."""

    ref: str | None = None
    name: Text | None = None


@dataclass(frozen=True)
class Unconfirmed:
    """Something users ask about that the sources could not confirm, said honestly."""

    text: Text
    topic: str | None = None


@dataclass(frozen=True)
class Entry:
    """One thing a citizen can ask about: an agency, city, course, agreement, concept…"""

    id: str
    kind: str
    name: Text
    short: Text
    aliases: tuple[str, ...]
    summary: Text
    sources: tuple[str, ...]
    details: tuple[Text, ...] = ()
    province: Text | None = None
    location: Text | None = None
    focus: tuple[Text, ...] = ()
    dates: tuple[DatedEvent, ...] = ()
    people: tuple[Person, ...] = ()
    members: tuple[Member, ...] = ()
    requirements: tuple[Text, ...] = ()
    unconfirmed: tuple[Unconfirmed, ...] = ()
    related: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    defer: tuple[tuple[str, str], ...] = ()
    """(question type, entry id): that entry answers this kind of question about this one."""
    questions: tuple[str, ...] = ()
    """Whole questions an operator linked to this entry (`unanswered promote --entity`): they
    link like aliases but, being sentences, stay out of the tokenizer's dictionary."""

    def deferred(self, intent: str) -> str | None:
        return dict(self.defer).get(intent)

    def names(self) -> tuple[str, ...]:
        """Every surface form that refers to this entry, for linking and the tokenizer."""
        return (self.name.th, self.name.en, self.short.th, self.short.en, *self.aliases)


@dataclass(frozen=True)
class Knowledge:
    """All entries, looked up by id; `version` fingerprints the files it came from."""

    entries: tuple[Entry, ...]
    version: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {entry.id: entry for entry in self.entries})

    def get(self, entry_id: str) -> Entry:
        return self._by_id[entry_id]  # type: ignore[attr-defined]

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Example:
    text: str
    intent: str


@dataclass(frozen=True)
class TrainingData:
    examples: tuple[Example, ...]
    descriptions: dict[str, str] = field(default_factory=dict)
    version: str = ""

    @property
    def intents(self) -> tuple[str, ...]:
        return tuple(sorted({example.intent for example in self.examples}))


class Status(StrEnum):
    """How a reply relates to the question; everything but ANSWERED is worth an operator's look."""

    ANSWERED = "answered"
    LOW_CONFIDENCE = "low_confidence"
    CLARIFY = "clarify"
    UNANSWERED = "unanswered"


@dataclass(frozen=True)
class Context:
    """What a follow-up ("แล้วภูเก็ตล่ะ") refers back to; kept per user for a few minutes."""

    entities: tuple[str, ...] = ()
    intent: str | None = None
    lang: Lang = Lang.TH
    at: float = 0.0


@dataclass(frozen=True)
class Reply:
    """Everything a channel needs to answer, and everything the unanswered log needs to record."""

    text: str
    intent: str | None
    confidence: float
    status: Status
    lang: Lang
    entities: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    suggestions: tuple[str, ...] = ()
    normalised: str = ""
    context: Context = field(default_factory=Context)

    @property
    def answered(self) -> bool:
        return self.status in (Status.ANSWERED, Status.LOW_CONFIDENCE)

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of `smartcity-bot ask --json`, which other tools read."""
        return {
            "answered": self.answered,
            "status": self.status.value,
            "intent": self.intent,
            "confidence": round(self.confidence, 4),
            "entities": list(self.entities),
            "text": self.text,
            "links": [{"label": link.label.in_(self.lang), "url": link.url} for link in self.links],
            "suggestions": list(self.suggestions),
            "lang": self.lang.value,
        }
