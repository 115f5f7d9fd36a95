"""The operators' loop end to end in a real headless Chromium (Debian's package, driven by
Playwright's Python client; no browser download): questions arrive through the LINE
webhook, an operator logs in, promotes the grouped question, reloads, and the bot answers.

Skips where Chromium is not installed (`.ci/run` installs it, so CI always runs this).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.web import create_app
from tests.conftest import REPO
from tests.fake_line import FakeLine
from tests.webhook_client import SECRET, TOKEN, AppServer, payload, post, text

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ADMIN = "browser-admin-token"
QUESTION = "เมืองไข่มุกอันดามันฉลาดตั้งแต่ปีไหน"
"""Phuket by its nickname: no entry knows that name yet, so the bot cannot answer it."""
CLOSED_NETWORK = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--metrics-recording-only",
]  # fmt: skip


@pytest.fixture
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); CI has it")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CLOSED_NETWORK)
        yield launched
        launched.close()


def answer_to(fake: FakeLine, http: httpx.Client, server: AppServer, question: str) -> str:
    sent = text(question)
    assert post(http, payload(sent)).status_code == 200
    server.idle()
    [reply] = fake.for_token(sent["replyToken"])
    return json.dumps(reply.body["messages"], ensure_ascii=False)


def test_promote_a_question_in_the_browser_and_the_bot_answers_it(
    browser: object, tmp_path: Path
) -> None:
    for folder in ("knowledge", "intents"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    fake = FakeLine().start()
    settings = Settings(
        knowledge_dir=tmp_path / "knowledge", intents_dir=tmp_path / "intents",
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}", admin_token=ADMIN,
        line_channel_secret=SECRET, line_channel_access_token=TOKEN, line_api_base_url=fake.url,
    )  # fmt: skip
    server = AppServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            first = answer_to(fake, http, server, QUESTION)
            answer_to(fake, http, server, QUESTION + "คะ")
            assert "ขอโทษ" in first and "2564" not in first, "not answerable yet"

            page = browser.new_page(locale="th-TH")  # type: ignore[attr-defined]
            page.goto(f"{server.url}/admin/")
            page.fill("#token", ADMIN)
            page.click("button[type=submit]")
            page.wait_for_selector("text=Dashboard")
            page.click("a[href='/admin/inbox']")
            card = page.locator("article.group", has_text=QUESTION)
            assert card.locator(".count").inner_text() == "×2", "both wordings, one group"
            card.locator("select[name=intent]").select_option("when")
            card.locator("select[name=entity]").select_option("phuket-smart-city")
            card.locator("form.promote button").click()
            page.wait_for_selector(".flash")
            assert "promoted" in page.inner_text(".flash")
            assert page.locator("article.group", has_text=QUESTION).count() == 0

            page.click("a[href='/admin/']")
            page.click("text=Reload knowledge")
            page.wait_for_selector("#last-reload.ok", timeout=120_000)
            page.screenshot(path=str(tmp_path / "admin-dashboard.png"), full_page=True)
            page.goto(f"{server.url}/admin/inbox?status=promoted")
            assert page.locator("article.group", has_text=QUESTION).count() == 1

            now = answer_to(fake, http, server, QUESTION)
            assert "ภูเก็ต" in now and "2564" in now, "answered after the reload, no restart"
    finally:
        server.stop()
    assert (tmp_path / "admin-dashboard.png").stat().st_size > 10_000
    print(f"screenshot: {tmp_path / 'admin-dashboard.png'}")
