from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import FIXTURES

FIXTURE_ENV = {
    "KNOWLEDGE_DIR": str(FIXTURES / "knowledge"),
    "INTENTS_DIR": str(FIXTURES / "intents"),
}


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), input=stdin, env=env or FIXTURE_ENV)


def test_ask_json_prints_one_answer_object() -> None:
    result = run("ask", "ซีเอสซีโอ", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answered"] is True
    assert data["intent"] == "what_is"
    assert data["entities"] == ["csco"]
    assert {"label": "สมัครเรียน", "url": "https://bit.ly/depa-csco"} in data["links"]
    assert 0.0 <= data["confidence"] <= 1.0
    assert 2 <= len(data["suggestions"]) <= 4


def test_ask_reads_questions_from_stdin_as_fresh_conversations() -> None:
    result = run("ask", "--json", stdin="ขอนแก่นมีแผนกี่ด้าน\n\nแล้วแม่เมาะล่ะ\n")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 2  # blank lines are skipped
    assert lines[1]["entities"] == ["mae-mo"]
    assert lines[1]["intent"] == "what_is"  # no context: a bare name asks what it is


def test_ask_keep_context_continues_the_conversation() -> None:
    result = run("ask", "--json", "--keep-context", stdin="ขอนแก่นมีแผนกี่ด้าน\nแล้วแม่เมาะล่ะ\n")
    second = json.loads(result.output.splitlines()[1])
    assert second["intent"] == "goal"
    assert "3 Smarts" in second["text"]


def test_ask_plain_text_shows_suggestions() -> None:
    result = run("ask", "ดีป้าอยู่ไหน")
    assert "ลาดพร้าว" in result.output
    assert "→ " in result.output


def test_chat_keeps_context_until_end_of_input() -> None:
    result = run("chat", stdin="ขอนแก่นมีแผนกี่ด้าน\nแล้วแม่เมาะล่ะ\n")
    assert result.exit_code == 0
    assert "3 Smarts" in result.output


def test_validate_ok() -> None:
    result = run("validate")
    assert result.exit_code == 0
    assert "OK: 9 knowledge entries" in result.output


def test_validate_lists_problems_and_exits_1(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "knowledge", tmp_path / "knowledge")
    path = tmp_path / "knowledge" / "entries.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("kind: course", "kind: cours"), encoding="utf-8"
    )
    result = run("validate", env={**FIXTURE_ENV, "KNOWLEDGE_DIR": str(tmp_path / "knowledge")})
    assert result.exit_code == 1
    assert result.output.splitlines()[1:] == [
        "  entries.yaml:22: entries[1] (csco).kind: Input should be 'agency', 'city', 'area', "
        "'course', 'programme', 'project', 'publication', 'agreement' or 'concept'"
    ]


def test_ask_with_broken_knowledge_exits_1_with_the_problems(tmp_path: Path) -> None:
    (tmp_path / "k.yaml").write_text("entries: [1]\n", encoding="utf-8")
    result = run("ask", "ดีป้า", env={**FIXTURE_ENV, "KNOWLEDGE_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "k.yaml:1" in result.output


def test_evaluate_prints_scores_and_writes_a_report(tmp_path: Path) -> None:
    result = run("evaluate", "--test-file", str(FIXTURES / "heldout.yaml"), "--folds", "3",
                 "--out", str(tmp_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "In-scope questions answered correctly | 2/2" in result.output
    assert "Out-of-scope questions refused | 1/1" in result.output
    assert "Follow-up turns right | 1/1" in result.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert set(report["intents"]["per_intent"]) >= {"what_is", "out_of_scope"}
    assert (tmp_path / "confusion.png").read_bytes().startswith(b"\x89PNG")
    assert "Most confused" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "smartcity-bot"
    if not script.exists():
        pytest.skip(f"console script not installed beside {sys.executable}")
    result = subprocess.run(
        [str(script), "ask", "CSCO", "--json"],
        env={**os.environ, **FIXTURE_ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stdout)["entities"] == ["csco"]
