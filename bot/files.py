"""Staff-edited YAML files → domain objects, with every problem located by file, line and field.

The YAML is read with ruamel.yaml's round-trip loader because it remembers the line of
every key, so a pydantic error such as ``entries.3.name.th`` can be reported as
``agencies.yaml:57: entries[3] (depa).name.th: Field required``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bot.domain import (
    ENTRY_KINDS,
    KNOWN_INTENTS,
    LINK_KINDS,
    QUESTION_INTENTS,
    DatedEvent,
    Entry,
    Example,
    Knowledge,
    Link,
    Member,
    PartialDate,
    Person,
    Text,
    TrainingData,
    Unconfirmed,
)
from bot.errors import KnowledgeError, Problem

YAML_SUFFIXES = (".yaml", ".yml")
SEED_FILE = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")
"""Seed articles are cited by their file name in shared/seeds/."""
URL = re.compile(r"^https?://[^\s]+$")
DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

ModelT = TypeVar("ModelT", bound="Strict")
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
EntryId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]


class Strict(BaseModel):
    """Unknown fields are errors, so a misspelt key is caught instead of silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TextModel(Strict):
    th: NonEmpty
    en: NonEmpty

    def build(self) -> Text:
        return Text(th=self.th, en=self.en)


def parse_partial_date(value: Any) -> PartialDate:
    """Accept 2021, "2021-05" or 2021-05-06 (CE); reject what is not a real date."""
    if isinstance(value, dt.date):
        year, month, day = value.year, value.month, value.day
    else:
        match = DATE.match(str(value).strip())
        if not match:
            raise ValueError(f"expected YYYY, YYYY-MM or YYYY-MM-DD (Common Era), got {value!r}")
        year, month, day = (int(part) if part else None for part in match.groups())  # type: ignore[assignment]
    if year > 2400:
        raise ValueError(f"{year} looks like a Buddhist-era year; write Common Era (พ.ศ. − 543)")
    dt.date(year, month or 1, day or 1)  # raises ValueError for 2021-02-30
    return PartialDate(year, month, day)


DateValue = Annotated[Any, AfterValidator(parse_partial_date)]


class DateField(Strict):
    date: DateValue
    label: TextModel


class PersonModel(Strict):
    name: TextModel
    role: TextModel
    as_of: DateValue


class LinkModel(Strict):
    label: TextModel
    url: Annotated[str, StringConstraints(pattern=URL.pattern, max_length=1000)]
    kind: Literal[LINK_KINDS] = "website"  # type: ignore[valid-type]


class UnconfirmedModel(Strict):
    th: NonEmpty
    en: NonEmpty
    topic: Literal[QUESTION_INTENTS] | None = None  # type: ignore[valid-type]


def check_source(value: str) -> str:
    if not (SEED_FILE.match(value) or URL.match(value)):
        raise ValueError(
            f"a source is a seed file name (000_…txt) or an http(s) URL, got {value!r}"
        )
    return value


Source = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(check_source)]


class EntryModel(Strict):
    id: EntryId
    kind: Literal[ENTRY_KINDS]  # type: ignore[valid-type]
    name: TextModel
    short: TextModel | None = None
    aliases: list[NonEmpty] = []
    questions: list[NonEmpty] = []
    summary: TextModel
    details: list[TextModel] = []
    province: TextModel | None = None
    location: TextModel | None = None
    focus: list[TextModel] = []
    dates: list[DateField] = []
    people: list[PersonModel] = []
    members: list[EntryId | TextModel] = []
    requirements: list[TextModel] = []
    unconfirmed: list[UnconfirmedModel] = []
    related: list[EntryId] = []
    links: list[LinkModel] = []
    defer: dict[Literal[QUESTION_INTENTS], EntryId] = {}  # type: ignore[valid-type]
    sources: Annotated[list[Source], Field(min_length=1)]

    def build(self) -> Entry:
        return Entry(
            id=self.id,
            kind=self.kind,
            name=self.name.build(),
            short=(self.short or self.name).build(),
            aliases=tuple(self.aliases),
            questions=tuple(self.questions),
            summary=self.summary.build(),
            sources=tuple(self.sources),
            details=tuple(text.build() for text in self.details),
            province=self.province.build() if self.province else None,
            location=self.location.build() if self.location else None,
            focus=tuple(text.build() for text in self.focus),
            dates=tuple(DatedEvent(d.date, d.label.build()) for d in self.dates),
            people=tuple(Person(p.name.build(), p.role.build(), p.as_of) for p in self.people),
            members=tuple(
                Member(ref=m) if isinstance(m, str) else Member(name=m.build())
                for m in self.members
            ),
            requirements=tuple(text.build() for text in self.requirements),
            unconfirmed=tuple(
                Unconfirmed(Text(th=u.th, en=u.en), u.topic) for u in self.unconfirmed
            ),
            related=tuple(self.related),
            links=tuple(Link(link.label.build(), link.url, link.kind) for link in self.links),
            defer=tuple(self.defer.items()),
        )


class KnowledgeFile(Strict):
    entries: list[Any]


class IntentModel(Strict):
    description: NonEmpty
    examples: Annotated[list[NonEmpty], Field(min_length=1)]


class IntentsFile(Strict):
    intents: dict[Literal[KNOWN_INTENTS], IntentModel]  # type: ignore[valid-type]


@dataclass(frozen=True)
class Document:
    """A parsed YAML file that still knows the line of each of its keys."""

    path: Path
    data: Any

    def line_of(self, loc: Iterable[int | str]) -> int | None:
        """The 1-based line of the deepest key of `loc` present in the file."""
        node, line = self.data, 1
        for key in loc:
            if isinstance(node, CommentedMap) and key in node:
                line = node.lc.key(key)[0] + 1
                node = node[key]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                line = node.lc.item(key)[0] + 1
                node = node[key]
            else:
                break
        return line

    def label_of(self, loc: Iterable[int | str]) -> str:
        """A readable field path; entries are named by their id so staff find them fast."""
        label, node = "", self.data
        for key in loc:
            if isinstance(key, int):
                label += f"[{key}]"
                if isinstance(node, CommentedSeq) and key < len(node):
                    node = node[key]
                    entry_id = node.get("id") if isinstance(node, CommentedMap) else None
                    if isinstance(entry_id, str):
                        label += f" ({entry_id})"
                    continue
            else:
                label += f".{key}" if label else str(key)
            node = node.get(key) if isinstance(node, CommentedMap) else None
        return label


def read_documents(directory: Path) -> tuple[list[Document], list[Problem]]:
    """Parse every YAML file in `directory`, collecting syntax errors instead of stopping."""
    if not directory.is_dir():
        return [], [Problem(str(directory), None, "", "directory not found")]
    documents, problems = [], []
    yaml = YAML(typ="rt")
    for path in sorted(p for p in directory.iterdir() if p.suffix in YAML_SUFFIXES):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"))
        except MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark else None
            problems.append(Problem(path.name, line, "", f"YAML syntax: {error.problem}"))
            continue
        except UnicodeDecodeError as error:
            problems.append(Problem(path.name, None, "", f"not UTF-8 text: {error}"))
            continue
        documents.append(Document(path, data))
    if not documents and not problems:
        problems.append(Problem(str(directory), None, "", "no .yaml files found"))
    return documents, problems


def validate_document(
    document: Document, model: type[ModelT], data: Any = None, at: tuple[str | int, ...] = ()
) -> tuple[ModelT | None, list[Problem]]:
    """Validate `data` (the whole document by default), found at path `at` in the document."""
    try:
        return model.model_validate(document.data if data is None else data), []
    except ValidationError as error:
        return None, [
            located(document, (*at, *detail["loc"]), detail["msg"]) for detail in error.errors()
        ]


def load_knowledge(directory: Path) -> Knowledge:
    """Load and cross-check every entry; raise one KnowledgeError listing all problems."""
    documents, problems = read_documents(directory)
    entries: list[Entry] = []
    where: dict[str, tuple[Document, tuple[str | int, ...]]] = {}
    for document in documents:
        parsed, found = validate_document(document, KnowledgeFile)
        problems += found
        for index, raw in enumerate(parsed.entries if parsed else []):
            loc = ("entries", index)
            model, found = validate_document(document, EntryModel, raw, loc)
            problems += found
            if model is None:
                continue
            if model.id in where:
                other = where[model.id][0]
                problems.append(
                    located(
                        document,
                        (*loc, "id"),
                        f"duplicate id {model.id!r}, also in {other.path.name}",
                    )
                )
                continue
            where[model.id] = (document, loc)
            entries.append(model.build())
    known = set(where) | {
        raw["id"]
        for document in documents
        if isinstance(document.data, CommentedMap)
        and isinstance(document.data.get("entries"), list)
        for raw in document.data["entries"]
        if isinstance(raw, CommentedMap) and isinstance(raw.get("id"), str)
    }  # an invalid entry is reported once, not again by every entry that refers to it
    for entry in entries:
        document, loc = where[entry.id]
        for number, member in enumerate(entry.members):
            if member.ref is not None and member.ref not in known:
                problems.append(
                    located(document, (*loc, "members", number), f"unknown entry {member.ref!r}")
                )
        for intent, target in entry.defer:
            if target not in known:
                problems.append(
                    located(document, (*loc, "defer", intent), f"unknown entry {target!r}")
                )
        for number, related in enumerate(entry.related):
            if related not in known:
                problems.append(
                    located(document, (*loc, "related", number), f"unknown entry {related!r}")
                )
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(entries=tuple(entries), version=fingerprint(d.path for d in documents))


def load_training_data(directory: Path) -> TrainingData:
    """Load the intent examples; the same sentence under two intents is a contradiction."""
    documents, problems = read_documents(directory)
    examples: list[Example] = []
    descriptions: dict[str, str] = {}
    seen: dict[str, str] = {}
    for document in documents:
        parsed, found = validate_document(document, IntentsFile)
        problems += found
        if parsed is None:
            continue
        for intent, model in parsed.intents.items():
            if intent in descriptions:
                problems.append(located(document, ("intents", intent), "intent defined twice"))
            descriptions[intent] = model.description
            for index, text in enumerate(model.examples):
                key = " ".join(text.lower().split())
                if key in seen and seen[key] != intent:
                    problems.append(located(
                        document, ("intents", intent, "examples", index),
                        f"{text!r} is also an example of {seen[key]!r}",
                    ))  # fmt: skip
                seen[key] = intent
                examples.append(Example(text=text, intent=intent))
    if problems:
        raise KnowledgeError(problems)
    version = fingerprint(d.path for d in documents)
    return TrainingData(examples=tuple(examples), descriptions=descriptions, version=version)


def located(document: Document, loc: tuple[str | int, ...], message: str) -> Problem:
    return Problem(document.path.name, document.line_of(loc), document.label_of(loc), message)


def fingerprint(paths: Iterable[Path]) -> str:
    """A short hash of the files' names and bytes: equal versions mean equal knowledge."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def load_all(knowledge_dir: Path, intents_dir: Path) -> tuple[Knowledge, TrainingData]:
    """Load knowledge and intents together, so one run reports the problems of both."""
    problems: list[Problem] = []
    knowledge = training = None
    try:
        knowledge = load_knowledge(knowledge_dir)
    except KnowledgeError as error:
        problems += error.problems
    try:
        training = load_training_data(intents_dir)
    except KnowledgeError as error:
        problems += error.problems
    if problems:
        raise KnowledgeError(problems)
    assert knowledge is not None and training is not None
    return knowledge, training
