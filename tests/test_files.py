from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.files import load_all, load_knowledge, load_training_data
from tests.conftest import FIXTURES

GOOD_ENTRY = """\
  - id: {id}
    kind: agency
    name: {{th: ชื่อ, en: Name}}
    summary: {{th: สรุป, en: Summary}}
    sources: [002_b6bcb78a8059ab4a.txt]
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(problem) for problem in caught.value.problems]


def test_fixture_knowledge_loads(tmp_path: Path) -> None:
    knowledge = load_knowledge(FIXTURES / "knowledge")
    assert "csco" in knowledge
    assert knowledge.get("csco").links[0].url == "https://bit.ly/depa-csco"
    assert len(knowledge.version) == 12


def test_every_problem_is_reported_with_file_line_and_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "entries:\n"
        + GOOD_ENTRY.format(id="ok")
        + """\
  - id: broken
    kind: agency
    name: {th: ชื่อ}
    summary: {th: สรุป, en: Summary}
    dates:
      - {date: 2564-05-06, label: {th: วัน, en: day}}
    colour: blue
    sources: [somewhere]
""",
    )
    assert problems_of(tmp_path) == [
        "a.yaml:9: entries[1] (broken).name.en: Field required",
        "a.yaml:12: entries[1] (broken).dates[0].date: Value error, 2564 looks like a "
        "Buddhist-era year; write Common Era (พ.ศ. − 543)",
        "a.yaml:13: entries[1] (broken).colour: Extra inputs are not permitted",
        "a.yaml:14: entries[1] (broken).sources[0]: Value error, a source is a seed file "
        "name (000_…txt) or an http(s) URL, got 'somewhere'",
    ]


def test_sources_are_required(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "entries:\n"
        + GOOD_ENTRY.format(id="x").replace("    sources: [002_b6bcb78a8059ab4a.txt]\n", ""),
    )
    assert problems_of(tmp_path) == ["a.yaml:2: entries[0] (x).sources: Field required"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "entries:\n  - id: x\n    name: {th: a, en: b\n    kind: agency\n")
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("bad.yaml:4: YAML syntax")


def test_problems_across_files_come_together(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "entries:\n" + GOOD_ENTRY.format(id="same"))
    write(
        tmp_path,
        "b.yaml",
        "entries:\n"
        + GOOD_ENTRY.format(id="same")
        + """\
  - id: other
    kind: agency
    name: {th: ชื่อ, en: Name}
    summary: {th: สรุป, en: Summary}
    related: [nowhere]
    sources: [https://example.org]
""",
    )
    assert problems_of(tmp_path) == [
        "b.yaml:2: entries[0] (same).id: duplicate id 'same', also in a.yaml",
        "b.yaml:11: entries[1] (other).related[0]: unknown entry 'nowhere'",
    ]


def test_impossible_date_is_rejected(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        "entries:\n"
        + GOOD_ENTRY.format(id="x")
        + ("    dates:\n      - {date: '2021-02-30', label: {th: วัน, en: day}}\n"),
    )
    (problem,) = problems_of(tmp_path)
    assert "dates[0].date" in problem and "day is out of range" in problem


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope")[0].endswith("directory not found")
    assert problems_of(tmp_path)[0].endswith("no .yaml files found")


def test_same_example_under_two_intents_is_a_contradiction(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        """\
intents:
  greet:
    description: hello
    examples: [สวัสดี]
  bye:
    description: bye
    examples:
      - บาย
      - สวัสดี
""",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_training_data(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "a.yaml:9: intents.bye.examples[1]: 'สวัสดี' is also an example of 'greet'"
    ]


def test_unknown_intent_name_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "intents:\n  weather:\n    description: x\n    examples: [ฝนตกไหม]\n")
    with pytest.raises(KnowledgeError, match=r"a.yaml:2: intents.weather.\[key\]"):
        load_training_data(tmp_path)


def test_load_all_reports_knowledge_and_intent_problems_together(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "intents", tmp_path / "intents")
    write(tmp_path / "intents", "z.yaml", "intents:\n  greet: {description: x, examples: []}\n")
    write(tmp_path / "knowledge", "a.yaml", "entries:\n  - id: x\n")
    with pytest.raises(KnowledgeError) as caught:
        load_all(tmp_path / "knowledge", tmp_path / "intents")
    files = {problem.file for problem in caught.value.problems}
    assert files == {"a.yaml", "z.yaml"}


def test_defer_must_name_a_question_type_and_a_known_entry(tmp_path: Path) -> None:
    entry = GOOD_ENTRY.format(id="x") + "    defer: {members: nowhere, colour: x}\n"
    write(tmp_path, "a.yaml", "entries:\n" + entry)
    (problem,) = problems_of(tmp_path)
    assert problem.startswith("a.yaml:7: entries[0] (x).defer.colour.[key]: Input should be")
    write(
        tmp_path,
        "a.yaml",
        "entries:\n" + GOOD_ENTRY.format(id="x") + "    defer: {members: nowhere}\n",
    )
    assert problems_of(tmp_path) == [
        "a.yaml:7: entries[0] (x).defer.members: unknown entry 'nowhere'"
    ]
