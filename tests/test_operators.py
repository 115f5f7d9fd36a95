"""The operators' commands on a real database and copies of the real YAML files."""

from __future__ import annotations

import csv
import difflib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from bot.domain import Lang, Reply, Status
from bot.files import load_all
from bot.store import Store
from tests.conftest import REPO

NOW = datetime.now(UTC)


@pytest.fixture
def workspace(tmp_path: Path) -> dict[str, str]:
    for folder in ("knowledge", "intents"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return {
        "KNOWLEDGE_DIR": str(tmp_path / "knowledge"),
        "INTENTS_DIR": str(tmp_path / "intents"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
    }


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def log(env: dict[str, str], text: str, *, status: Status = Status.UNANSWERED,
        ago: timedelta = timedelta(0), user: str = "u") -> None:  # fmt: skip
    reply = Reply(text="ขออภัยค่ะ", intent="out_of_scope", confidence=0.3, status=status,
                  lang=Lang.TH, normalised=text)  # fmt: skip
    store = Store.connect(env["DATABASE_URL"])
    try:
        store.record(user, text, reply, now=NOW - ago)
    finally:
        store.close()


def listed(env: dict[str, str], *options: str) -> list[dict[str, object]]:
    result = run(env, "unanswered", "list", "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_promote_adds_one_line_to_the_right_intent_and_keeps_the_file(
    workspace: dict[str, str],
) -> None:
    for text in ("สมาร์ทซิตี้ภูเก็ตเริ่มตอนไหน", "สมาร์ทซิตี้ภูเก็ตเริ่มตอนไหนคะ", "ดูดวงหน่อย"):
        log(workspace, text)
    [group] = [g for g in listed(workspace) if g["count"] == 2]
    path = Path(workspace["INTENTS_DIR"]) / "questions.yaml"
    before = path.read_text(encoding="utf-8").splitlines()

    result = run(workspace, "unanswered", "promote", str(group["id"]), "--intent", "when",
                 "--entity", "phuket-smart-city")  # fmt: skip
    assert result.exit_code == 0, result.output

    after = path.read_text(encoding="utf-8").splitlines()
    added = [line for line in difflib.ndiff(before, after) if line[:2] in ("+ ", "- ")]
    assert added == ["+       - สมาร์ทซิตี้ภูเก็ตเริ่มตอนไหน"], "one line, nothing else touched"
    knowledge, training = load_all(Path(workspace["KNOWLEDGE_DIR"]), path.parent)
    assert "สมาร์ทซิตี้ภูเก็ตเริ่มตอนไหน" in {e.text for e in training.examples if e.intent == "when"}
    assert knowledge.get("phuket-smart-city").questions == ("สมาร์ทซิตี้ภูเก็ตเริ่มตอนไหน",)
    assert [g["text"] for g in listed(workspace)] == ["ดูดวงหน่อย"]
    [promoted] = listed(workspace, "--status", "promoted")
    assert promoted["count"] == 2 and promoted["status"] == "promoted"


def test_promote_refuses_contradictions_and_unknown_names_without_writing(
    workspace: dict[str, str],
) -> None:
    log(workspace, "ดูดวงวันนี้ให้หน่อย")  # already an out_of_scope example in intents/
    [group] = listed(workspace)
    files = {p: p.read_bytes() for p in Path(workspace["INTENTS_DIR"]).parent.rglob("*.yaml")}
    for extra in (["--intent", "what_is"], ["--intent", "no_such_intent"],
                  ["--intent", "out_of_scope", "--entity", "no-such-entry"]):  # fmt: skip
        result = run(workspace, "unanswered", "promote", str(group["id"]), *extra)
        assert result.exit_code != 0 and "Error" in result.output, extra
    assert files == {p: p.read_bytes() for p in files}, "no file changed"
    assert listed(workspace)[0]["status"] == "new"
    assert run(workspace, "unanswered", "promote", "999", "--intent", "when").exit_code != 0


def test_ignore_export_and_purge(workspace: dict[str, str], tmp_path: Path) -> None:
    log(workspace, "หวยออกอะไร")
    log(workspace, "ต่อพาสปอร์ตที่ไหน", status=Status.LOW_CONFIDENCE)
    log(workspace, "ราคาทองวันนี้", ago=timedelta(days=100))
    assert {g["status"] for g in listed(workspace)} == {"new", "low_confidence"}
    [low] = listed(workspace, "--status", "low_confidence")
    assert low["reply"] == "ขออภัยค่ะ", "doubtful answers keep what the bot said"

    [lottery] = [g for g in listed(workspace) if g["text"] == "หวยออกอะไร"]
    assert run(workspace, "unanswered", "ignore", str(lottery["id"])).exit_code == 0
    assert [g["text"] for g in listed(workspace, "--status", "ignored")] == ["หวยออกอะไร"]

    out = tmp_path / "export.csv"
    assert run(workspace, "unanswered", "export", "--csv", str(out)).exit_code == 0
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["text"] for row in rows} == {"หวยออกอะไร", "ต่อพาสปอร์ตที่ไหน", "ราคาทองวันนี้"}

    result = run(workspace, "unanswered", "purge")
    assert result.exit_code == 0 and "Deleted 1 " in result.output
    assert "ราคาทองวันนี้" not in {g["text"] for g in listed(workspace, "--status", "all")}
    assert "Deleted 2 " in run(workspace, "unanswered", "purge", "--older-than", "0").output
