"""The admin API: who may use it, reloads that keep the last good bot, metrics.

The real app under uvicorn on a port (local mode: the web chat is the quickest way to ask),
on copies of the real knowledge files that the tests edit.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.web import create_app
from tests.conftest import REPO
from tests.webhook_client import AppServer, free_port

pytestmark = pytest.mark.slow
ADMIN = "admin-test-token"
BEARER = {"Authorization": f"Bearer {ADMIN}"}
SUMMARY = "ดีป้าเป็นหน่วยงานในกำกับของกระทรวงดิจิทัลเพื่อเศรษฐกิจและสังคม"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("files")
    for folder in ("knowledge", "intents"):
        shutil.copytree(REPO / folder, root / folder)
    return root


@pytest.fixture(scope="module")
def server(files: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    settings = Settings(
        knowledge_dir=files / "knowledge", intents_dir=files / "intents",
        database_url=f"sqlite:///{tmp_path_factory.mktemp('db') / 'bot.sqlite3'}",
        admin_token=ADMIN, metrics_token="scraper-token",
    )  # fmt: skip
    app_server = AppServer(create_app(settings)).start()
    yield app_server
    app_server.stop()


def ask(http: httpx.Client, text: str) -> str:
    response = http.post("/chat", json={"text": text, "session": "admin-tests"})
    assert response.status_code == 200
    return str(response.json()["text"])


def test_admin_is_off_without_a_token(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}", admin_token=None)
    app_server = AppServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=app_server.url) as http:
            for path in ("/admin", "/admin/", "/admin/login", "/metrics"):
                assert http.get(path).status_code == 404, path
            assert http.post("/admin/reload", headers=BEARER).status_code == 404
    finally:
        app_server.stop()


def test_admin_needs_the_token_and_forms_need_the_csrf_token(server: AppServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/admin/").headers["location"] == "/admin/login"
        assert http.get("/admin/inbox").headers["location"] == "/admin/login"
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": ADMIN}):
            assert http.post("/admin/reload", headers=headers).status_code == 401

        login = http.get("/admin/login")
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text)
        assert csrf is not None
        refused = http.post("/admin/login", data={"token": ADMIN})
        assert refused.status_code == 403, "no CSRF token"
        wrong = http.post("/admin/login", data={"token": "nope", "csrf": csrf[1]})
        assert wrong.status_code == 401 and "admin-test-token" not in wrong.text
        assert http.post("/admin/login", data={"token": ADMIN, "csrf": csrf[1]}).status_code == 303
        page = http.get("/admin/")
        assert page.status_code == 200 and "Dashboard" in page.text
        assert http.post("/admin/reload").status_code == 403, "logged in, but no CSRF token"


def test_metrics_need_a_token_and_count_questions(server: AppServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/metrics").status_code == 401
        ask(http, "ดูดวงวันนี้หน่อย")
        for token in ("scraper-token", ADMIN):
            response = http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
        body = response.text
    assert re.search(r'smartcity_messages_total\{status="unanswered"\} [1-9]', body)
    assert re.search(r"smartcity_reply_seconds_count [1-9]", body)
    assert "smartcity_answered_ratio" in body and "smartcity_line_api_errors_total" in body


def test_a_broken_edit_keeps_the_old_bot_and_a_good_one_goes_live(
    server: AppServer, files: Path
) -> None:
    agencies = files / "knowledge" / "agencies.yaml"
    original = agencies.read_text(encoding="utf-8")
    with httpx.Client(base_url=server.url, timeout=120) as http:
        assert SUMMARY in ask(http, "ดีป้าคืออะไร")
        version = http.get("/healthz").json()["knowledge"]["version"]

        broken = original.replace("    summary:\n", "    summery:\n", 1)
        agencies.write_text(broken, encoding="utf-8")
        refused = http.post("/admin/reload", headers=BEARER)
        assert refused.status_code == 422
        result = refused.json()
        assert result["ok"] is False and result["version"] == version
        assert any(re.match(r"agencies\.yaml:\d+: .*summ", e) for e in result["errors"])
        assert SUMMARY in ask(http, "ดีป้าคืออะไร"), "still the old knowledge"

        agencies.write_text(original.replace(SUMMARY, "ดีป้าคือหน่วยงานทดสอบการโหลดใหม่"), "utf-8")
        accepted = http.post("/admin/reload", headers=BEARER)
        assert accepted.status_code == 200 and accepted.json()["ok"] is True
        assert "ดีป้าคือหน่วยงานทดสอบการโหลดใหม่" in ask(http, "ดีป้าคืออะไร"), "no restart needed"
        health = http.get("/healthz").json()["knowledge"]
        assert health["version"] == accepted.json()["version"] != version
    agencies.write_text(original, encoding="utf-8")


def test_the_reload_command_reports_problems_and_exits_1(server: AppServer, files: Path) -> None:
    env = {**os.environ, "ADMIN_TOKEN": ADMIN, "SERVER_URL": server.url}
    intents = files / "intents" / "smalltalk.yaml"
    original = intents.read_text(encoding="utf-8")
    intents.write_text(original.replace("intents:", "intents: [", 1), encoding="utf-8")
    try:
        command = [sys.executable, "-m", "bot.cli", "reload"]
        failed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert failed.returncode == 1 and "smalltalk.yaml:" in failed.stderr
    finally:
        intents.write_text(original, encoding="utf-8")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Reloaded" in done.stdout


def test_sighup_reloads_a_running_server(files: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "KNOWLEDGE_DIR": str(files / "knowledge"),
           "INTENTS_DIR": str(files / "intents"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}  # fmt: skip
    command = [
        sys.executable,
        "-m",
        "bot.cli",
        "serve",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env)
    agencies = files / "knowledge" / "agencies.yaml"
    original = agencies.read_text(encoding="utf-8")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            before = wait_for_version(http, lambda version: True)
            agencies.write_text(original + "\n# edited\n", encoding="utf-8")
            process.send_signal(signal.SIGHUP)
            after = wait_for_version(http, lambda version: version != before)
            assert after != before and "ดีป้า" in ask(http, "ดีป้าคืออะไร")
    finally:
        agencies.write_text(original, encoding="utf-8")
        process.terminate()
        process.wait(30)


def wait_for_version(http: httpx.Client, done: Callable[[str], bool]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            version = http.get("/healthz").json()["knowledge"]["version"]
            if done(version):
                return str(version)
        except httpx.HTTPError:
            pass  # not up yet
        time.sleep(0.2)
    raise TimeoutError("the server's knowledge version did not change")
