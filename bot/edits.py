"""Operators' decisions written back into the staff's YAML files, comments and layout kept.

`unanswered promote` (CLI and admin page) adds a question as a training example of an
intent and, optionally, links it to a knowledge entry. The files stay the source of truth:
the change is a normal edit staff can see in `git diff`, and it goes live on reload.
Writes are atomic (temporary file, then rename), so a running server never reads half a file.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.files import YAML_SUFFIXES


class EditError(ValueError):
    """The edit cannot be made (unknown intent or entry, a contradiction); nothing was written."""


@dataclass(frozen=True)
class Edit:
    path: Path
    changed: bool
    """False when the file already said this (promoting twice is harmless)."""


def add_example(intents_dir: Path, intent: str, text: str, *, dry_run: bool = False) -> Edit:
    """Append `text` to the examples of `intent`, in whichever intents file defines it."""
    text = " ".join(text.split())
    if not text:
        raise EditError("an empty question cannot be a training example")
    found: tuple[Path, Any, CommentedSeq] | None = None
    known: list[str] = []
    for path, data in documents(intents_dir):
        for name, body in (data.get("intents") or {}).items():
            known.append(name)
            examples = body.get("examples") if isinstance(body, CommentedMap) else None
            if not isinstance(examples, CommentedSeq):
                continue
            for example in examples:
                if same(example, text):
                    if name == intent:
                        return Edit(path, changed=False)
                    raise EditError(f"{text!r} is already an example of {name!r} in {path.name}")
            if name == intent:
                found = (path, data, examples)
    if found is None:
        raise EditError(f"unknown intent {intent!r}; known: {', '.join(sorted(known))}")
    path, data, examples = found
    if not dry_run:
        examples.append(text)
        write(path, data)
    return Edit(path, changed=True)


def check_example(intents_dir: Path, intent: str, text: str) -> None:
    """Raise `EditError` if `add_example` would refuse; write nothing."""
    add_example(intents_dir, intent, text, dry_run=True)


def link_question(knowledge_dir: Path, entry_id: str, text: str) -> Edit:
    """Add `text` to the entry's `questions`, so the same question links to it from now on."""
    text = " ".join(text.split())
    for path, data in documents(knowledge_dir):
        for entry in data.get("entries") or []:
            if not isinstance(entry, CommentedMap) or entry.get("id") != entry_id:
                continue
            questions = entry.get("questions")
            if questions is None:
                questions = CommentedSeq()
                position = list(entry).index("aliases") + 1 if "aliases" in entry else len(entry)
                entry.insert(position, "questions", questions)
            if any(same(question, text) for question in questions):
                return Edit(path, changed=False)
            questions.append(text)
            write(path, data)
            return Edit(path, changed=True)
    raise EditError(f"unknown knowledge entry {entry_id!r}")


def same(a: object, b: str) -> bool:
    return isinstance(a, str) and " ".join(a.lower().split()) == b.lower()


def round_trip() -> YAML:
    yaml = YAML()  # round-trip: comments, order and quoting survive
    yaml.width = 4096  # never re-wrap long Thai lines
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def documents(directory: Path) -> list[tuple[Path, Any]]:
    paths = sorted(p for p in directory.iterdir() if p.suffix in YAML_SUFFIXES)
    yaml = round_trip()
    return [(path, yaml.load(path.read_text(encoding="utf-8"))) for path in paths]


def write(path: Path, data: Any) -> None:
    buffer = io.StringIO()
    round_trip().dump(data, buffer)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(buffer.getvalue())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
