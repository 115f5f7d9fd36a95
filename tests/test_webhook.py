"""End to end: the real app on a port, signed webhooks in, a fake LINE API over real HTTP out.

Every request the bot sends is checked against LINE's OpenAPI schema and limits.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.review import group_messages
from bot.schema import unanswered
from bot.store import Store
from bot.web import create_app
from tests.conftest import REPO
from tests.fake_line import FakeLine, Received
from tests.line_contract import contract_errors, webhook_errors
from tests.webhook_client import (
    SECRET,
    TOKEN,
    AppServer,
    event,
    new_id,
    payload,
    post,
    sign,
    text,
)

pytestmark = pytest.mark.slow

GROUP = {"type": "group", "groupId": "C" + "a" * 32, "userId": "U" + "2" * 32}


def line_settings(fake: FakeLine, database_url: str) -> Settings:
    return Settings(
        knowledge_dir=REPO / "knowledge",
        intents_dir=REPO / "intents",
        line_channel_secret=SECRET,
        line_channel_access_token=TOKEN,
        line_api_base_url=fake.url,
        line_api_timeout=0.5,
        database_url=database_url,
        user_key_secret=None,
    )


@pytest.fixture(scope="module")
def fake() -> FakeLine:
    return FakeLine().start()


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'bot.sqlite3'}"


@pytest.fixture(scope="module")
def server(fake: FakeLine, database_url: str) -> Iterator[AppServer]:
    app_server = AppServer(create_app(line_settings(fake, database_url))).start()
    yield app_server
    app_server.stop()


@pytest.fixture
def client(server: AppServer, fake: FakeLine) -> Iterator[httpx.Client]:
    fake.reset()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http
    server.idle()


def deliver(client: httpx.Client, server: AppServer, *events: dict[str, Any]) -> None:
    body = payload(*events)
    assert webhook_errors(json.loads(body)) == []  # the test itself speaks LINE's shape
    response = post(client, body)
    assert response.status_code == 200, response.text
    server.idle()


def replies(fake: FakeLine, sent: dict[str, Any]) -> list[Received]:
    got = fake.for_token(sent["replyToken"])
    for request in got:
        assert request.path == "/v2/bot/message/reply"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert contract_errors(request.body) == [], request.body
    return got


def texts(request: Received) -> str:
    return "\n".join(m["text"] for m in request.body["messages"] if m["type"] == "text")


def quick_labels(request: Received) -> list[str]:
    items = request.body["messages"][-1].get("quickReply", {}).get("items", [])
    return [item["action"]["label"] for item in items]


# --- the HTTP surface ---------------------------------------------------------------------


def test_healthz_reports_version_and_knowledge(client: httpx.Client) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["mode"] == "line"
    assert health["database"] == "ok"
    assert health["knowledge"]["entries"] >= 40
    assert health["version"]


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", sign(b"other body")])
def test_bad_or_missing_signature_is_400_and_nothing_happens(
    client: httpx.Client,
    server: AppServer,
    fake: FakeLine,
    signature: str | None,
    database_url: str,
) -> None:
    sent = text("ซีเอสซีโอ")
    response = post(client, payload(sent), signature=signature)
    assert response.status_code == 400
    server.idle()
    assert fake.requests == []
    store = Store.connect(database_url)
    assert store.claim_event(sent["webhookEventId"], now=datetime.now(UTC)), "never claimed"
    store.close()


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'"events"', b'{"events": {}}', b'{"events": [1]}', b"\xff\xfe"]
)
def test_malformed_body_is_400_never_500(client: httpx.Client, body: bytes) -> None:
    assert post(client, body, signature=sign(body)).status_code == 400


def test_oversized_body_is_413(client: httpx.Client) -> None:
    body = payload(text("ก" * (1024 * 1024 // 3 + 10)))
    assert len(body) > 1024 * 1024
    assert post(client, body).status_code == 413


def test_verify_button_with_no_events_is_200(client: httpx.Client, fake: FakeLine) -> None:
    response = post(client, payload())
    assert response.status_code == 200
    assert fake.requests == []


def test_local_mode_callback_is_503_with_an_explanation(tmp_path: Path) -> None:
    settings = Settings(
        line_channel_secret=None,
        line_channel_access_token=None,
        database_url=f"sqlite:///{tmp_path / 'local.sqlite3'}",
    )
    app_server = AppServer(create_app(settings)).start()
    try:
        with httpx.Client(base_url=app_server.url) as http:
            response = post(http, payload(text("ซีเอสซีโอ")))
            assert response.status_code == 503
            assert "LINE_CHANNEL_SECRET" in response.json()["error"]
            assert http.get("/healthz").json()["mode"] == "local"
            page = http.get("/")
            assert page.status_code == 200 and "<form" in page.text
            first = http.post("/chat", json={"text": "คู่มือเมืองอัจฉริยะคืออะไร", "session": "s" * 10})
            follow = http.post("/chat", json={"text": "โหลดได้ที่ไหน", "session": "s" * 10})
            stranger = http.post("/chat", json={"text": "โหลดได้ที่ไหน", "session": "t" * 10})
            assert first.json()["answered"] and follow.json()["answered"]
            assert follow.json()["links"], "the follow-up is about the handbook's download link"
            assert not stranger.json()["answered"], "another session has no context"
            assert http.post("/chat", json={"text": "", "session": "s" * 10}).status_code == 422
    finally:
        app_server.stop()


# --- events ---------------------------------------------------------------------------------


def test_text_gets_answer_card_and_quick_replies(
    client: httpx.Client, server: AppServer, fake: FakeLine
) -> None:
    sent = text("ซีเอสซีโอ")
    deliver(client, server, sent)
    [request] = replies(fake, sent)
    assert "CSCO" in texts(request)
    flex = [m for m in request.body["messages"] if m["type"] == "flex"]
    assert flex, "an answer with links comes with a card"
    assert "https://" in json.dumps(flex[0]["contents"])
    assert 2 <= len(quick_labels(request)) <= 13


def test_list_answer_is_a_carousel(client: httpx.Client, server: AppServer, fake: FakeLine) -> None:
    sent = text("เมืองอัจฉริยะนำร่องมีที่ไหนบ้าง")
    deliver(client, server, sent)
    [request] = replies(fake, sent)
    [flex] = [m for m in request.body["messages"] if m["type"] == "flex"]
    assert flex["contents"]["type"] == "carousel"
    assert len(flex["contents"]["contents"]) >= 5


@pytest.mark.parametrize(
    ("kind", "fields", "expected"),
    [
        ("follow", {"follow": {"isUnblocked": False}}, "เพิ่ม"),
        ("join", {"source": GROUP}, "กลุ่ม"),
        ("postback", {"postback": {"data": "ask=ดีป้าคืออะไร"}}, "ดีป้า"),
    ],
)
def test_follow_join_and_postback(
    client: httpx.Client,
    server: AppServer,
    fake: FakeLine,
    kind: str,
    fields: dict[str, Any],
    expected: str,
) -> None:
    sent = event(kind, **fields)
    deliver(client, server, sent)
    [request] = replies(fake, sent)
    assert expected in texts(request)


def test_sticker_gets_a_friendly_reply(
    client: httpx.Client, server: AppServer, fake: FakeLine
) -> None:
    sticker = {
        "type": "sticker",
        "id": new_id(),
        "quoteToken": "q",
        "packageId": "1",
        "stickerId": "1",
        "stickerResourceType": "STATIC",
    }
    sent = event("message", message=sticker)
    deliver(client, server, sent)
    [request] = replies(fake, sent)
    assert "สติกเกอร์" in texts(request)


@pytest.mark.parametrize(
    "message",
    [
        {"type": "image", "contentProvider": {"type": "line"}, "quoteToken": "q"},
        {"type": "video", "duration": 1000, "contentProvider": {"type": "line"}, "quoteToken": "q"},
        {"type": "audio", "duration": 1000, "contentProvider": {"type": "line"}},
        {"type": "file", "fileName": "a.pdf", "fileSize": 10},
        {"type": "location", "latitude": 13.7, "longitude": 100.5, "address": "กรุงเทพฯ"},
    ],
)
def test_media_gets_text_only_please(
    client: httpx.Client, server: AppServer, fake: FakeLine, message: dict[str, Any]
) -> None:
    sent = event("message", message={"id": new_id(), **message})
    deliver(client, server, sent)
    [request] = replies(fake, sent)
    assert "เฉพาะข้อความ" in texts(request)


def test_unknown_and_unanswerable_events_are_ignored(
    client: httpx.Client, server: AppServer, fake: FakeLine, caplog: pytest.LogCaptureFixture
) -> None:
    future = event("somethingNew", replyToken="r1", thing={"a": 1})
    unfollow = event("unfollow")
    standby = text("ซีเอสซีโอ", mode="standby")
    with caplog.at_level(logging.INFO, logger="bot"):
        response = post(client, payload(future, unfollow, standby))
        assert response.status_code == 200
        server.idle()
    assert fake.requests == []
    assert "somethingNew" in caplog.text


# --- redelivery -----------------------------------------------------------------------------


def test_redelivered_event_is_answered_once(
    client: httpx.Client, server: AppServer, fake: FakeLine
) -> None:
    sent = text("NIA คืออะไร")
    deliver(client, server, sent)
    again = {**sent, "deliveryContext": {"isRedelivery": True}}
    deliver(client, server, again)
    assert len(replies(fake, sent)) == 1


def test_two_copies_at_the_same_moment_are_answered_once(
    client: httpx.Client, server: AppServer, fake: FakeLine
) -> None:
    events = [text(f"วว. คืออะไร {i}") for i in range(10)]
    body = payload(*events)
    barrier = threading.Barrier(4)

    def send_copy() -> None:
        with httpx.Client(base_url=server.url) as http:
            barrier.wait()
            assert post(http, body).status_code == 200

    threads = [threading.Thread(target=send_copy) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.idle()
    for sent in events:
        assert len(replies(fake, sent)) == 1


# --- LINE API failures ------------------------------------------------------------------------


def test_server_error_is_retried_once(
    client: httpx.Client, server: AppServer, fake: FakeLine
) -> None:
    fake.fail_next(500)
    sent = text("ดีป้าคืออะไร")
    deliver(client, server, sent)
    assert [r.status for r in replies(fake, sent)] == [500, 200]


@pytest.mark.parametrize("status", [400, 429])
def test_client_errors_are_not_retried_and_logged_with_request_id(
    client: httpx.Client,
    server: AppServer,
    fake: FakeLine,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.fail_next(status)
    sent = text("ดีป้าคืออะไร")
    with caplog.at_level(logging.WARNING, logger="bot"):
        deliver(client, server, sent)
    assert [r.status for r in replies(fake, sent)] == [status]
    assert "x-line-request-id=fake-" in caplog.text


def test_timeouts_and_persistent_failures_never_stop_the_server(
    client: httpx.Client, server: AppServer, fake: FakeLine
) -> None:
    fake.fail_next(200, delay=1.5)  # longer than the 0.5 s timeout
    slow, down = text("ดีป้าคืออะไร"), text("กนอ. คืออะไร")
    response = post(client, payload(slow))
    assert response.status_code == 200
    assert response.elapsed.total_seconds() < 0.5, "the webhook never waits for LINE"
    server.idle()
    assert len(replies(fake, slow)) == 2  # timed out, retried
    fake.fail_next(503, times=2)
    deliver(client, server, down)
    assert [r.status for r in replies(fake, down)] == [503, 503]
    after = text("ซีเอสซีโอ")
    deliver(client, server, after)
    assert [r.status for r in replies(fake, after)] == [200]


# --- groups and context ---------------------------------------------------------------------


def test_group_messages_need_a_mention_or_wake_word(
    client: httpx.Client, server: AppServer, fake: FakeLine
) -> None:
    chatter = text("ซีเอสซีโอ", source=GROUP)
    mention = {"mentionees": [{"index": 0, "length": 5, "type": "user", "isSelf": True}]}
    mentioned = text("@น้อง ซีเอสซีโอคืออะไร", source=GROUP, mention=mention)
    woken = text("บอท ดีป้าคืออะไร", source=GROUP)
    deliver(client, server, chatter, mentioned, woken)
    assert replies(fake, chatter) == []
    assert "CSCO" in texts(replies(fake, mentioned)[0])
    assert "ดีป้า" in texts(replies(fake, woken)[0])


def test_context_is_per_user(client: httpx.Client, server: AppServer, fake: FakeLine) -> None:
    alice, bob = "U" + "a" * 32, "U" + "b" * 32
    deliver(client, server, text("คู่มือเมืองอัจฉริยะคืออะไร", user=alice))
    follow_up = text("โหลดได้ที่ไหน", user=alice)
    stranger = text("โหลดได้ที่ไหน", user=bob)
    deliver(client, server, follow_up, stranger)
    [answer] = replies(fake, follow_up)
    assert "http" in json.dumps(answer.body), "Alice's follow-up is about the handbook"
    assert "ไม่แน่ใจ" in texts(replies(fake, stranger)[0]), "Bob has no context of Alice's"


# --- the unanswered log ------------------------------------------------------------------------


def test_unanswered_are_logged_even_when_line_fails(
    client: httpx.Client, server: AppServer, fake: FakeLine, database_url: str
) -> None:
    fake.fail_next(500, times=2)
    question = f"ร้านข้าวมันไก่แถวนี้อร่อยไหม {new_id()}"
    deliver(client, server, text(question))
    deliver(client, server, text(question, user="U" + "c" * 32))
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    listed = subprocess.run(
        [sys.executable, "-m", "bot.cli", "unanswered", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO,
    )
    groups = [g for g in json.loads(listed.stdout) if g["text"] == question]
    assert len(groups) == 1
    [group] = groups
    assert group["count"] == 2 and group["status"] == "new"
    assert group["examples"] == [question]
    assert {"id", "first_seen", "last_seen", "intent", "confidence"} <= group.keys()
    store = Store.connect(database_url)
    try:
        with store.engine.connect() as connection:
            query = select(unanswered.c.user_key).where(unanswered.c.text == question)
            keys = set(connection.execute(query).scalars())
    finally:
        store.close()
    assert len(keys) == 2 and not any(key.startswith("U") for key in keys), "hashed user ids"


def test_the_server_runs_on_postgresql(fake: FakeLine, postgres_url: str) -> None:
    fake.reset()
    app_server = AppServer(create_app(line_settings(fake, postgres_url))).start()
    try:
        with httpx.Client(base_url=app_server.url, timeout=10) as http:
            assert http.get("/healthz").json()["database"] == "ok"
            first = text("คู่มือเมืองอัจฉริยะคืออะไร")
            follow_up, refused = text("โหลดได้ที่ไหน"), text("ดูดวงวันนี้หน่อย")
            deliver(http, app_server, first)
            deliver(http, app_server, follow_up, refused, follow_up)
    finally:
        app_server.stop()
    assert len(replies(fake, follow_up)) == 1
    assert "http" in json.dumps(replies(fake, follow_up)[0].body)
    store = Store.connect(postgres_url)
    try:
        assert [g.text for g in group_messages(store.logged())] == ["ดูดวงวันนี้หน่อย"]
    finally:
        store.close()
