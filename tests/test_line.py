"""Rendering within LINE's limits, webhook verification, and who a group message is for."""

from __future__ import annotations

import contextlib
import json
from urllib.parse import parse_qs

import pytest
from hypothesis import given
from hypothesis import strategies as st
from linebot.v3 import WebhookParser
from linebot.v3.messaging import ReplyMessageRequest
from linebot.v3.models.events import UnknownEvent
from linebot.v3.webhooks import GroupSource, TextMessageContent, UserSource

from bot.core import Bot
from bot.domain import Knowledge, Lang, Link, Reply, Status, Text
from bot.events import UserKeys, addressed_text
from bot.line import (
    MAX_TEXT_UTF16,
    PayloadError,
    SignatureError,
    ask_action,
    parse_webhook,
    render_reply,
    split_text,
    utf16_length,
)
from tests.line_contract import contract_errors
from tests.webhook_client import SECRET, event, payload, sign, text


def request_body(reply: Reply, knowledge: Knowledge) -> dict[str, object]:
    messages = render_reply(reply, knowledge)
    return json.loads(ReplyMessageRequest(reply_token="t", messages=messages).to_json())


def long_reply(text: str, **fields: object) -> Reply:
    return Reply(text=text, intent="what_is", confidence=0.9, status=Status.ANSWERED,
                 lang=Lang.TH, **fields)  # type: ignore[arg-type]  # fmt: skip


@given(st.text(min_size=1, max_size=12_000))
def test_split_text_keeps_every_character_within_the_limit(text: str) -> None:
    pieces = split_text(text, limit=50)
    assert all(utf16_length(piece) <= 50 for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split()), "only spaces may go"


def test_long_answers_split_on_sentences_and_fit_five_messages(tiny_bot: Bot) -> None:
    sentence = "เมืองอัจฉริยะช่วยให้ชีวิตดีขึ้นค่ะ " * 40
    body = request_body(long_reply(sentence * 6, suggestions=("a",)), tiny_bot.knowledge)
    assert contract_errors(body) == []
    texts = [m["text"] for m in body["messages"]]  # type: ignore[index]
    assert len(texts) > 1
    assert all(t.endswith("ค่ะ") for t in texts[:-1]), "split at sentence ends"
    huge = request_body(long_reply("ก" * (MAX_TEXT_UTF16 * 7)), tiny_bot.knowledge)
    assert contract_errors(huge) == []


def test_emoji_count_twice_towards_the_text_limit(tiny_bot: Bot) -> None:
    body = request_body(long_reply("😊" * 4000), tiny_bot.knowledge)
    assert contract_errors(body) == []
    assert len(body["messages"]) == 2  # type: ignore[arg-type]


def test_quick_replies_are_clipped_deduplicated_and_capped(tiny_bot: Bot) -> None:
    suggestions = tuple(f"คำถามยาวมากเกี่ยวกับเมืองอัจฉริยะข้อที่ {i}" for i in range(20))
    body = request_body(
        long_reply("ตอบ", suggestions=(*suggestions, suggestions[0])), tiny_bot.knowledge
    )
    assert contract_errors(body) == []
    items = body["messages"][-1]["quickReply"]["items"]  # type: ignore[index]
    assert len(items) == 13
    action = items[0]["action"]
    assert action["type"] == "postback", "a message action would be ignored in groups"
    assert parse_qs(action["data"])["ask"] == [suggestions[0]], "tapping asks the whole question"
    assert action["displayText"] == suggestions[0]
    assert action["label"].endswith("…")
    long_question = "ถาม" * 120  # too long for postback data
    fallback = ask_action(long_question).to_dict()
    assert fallback["type"] == "message" and fallback["text"].startswith(long_question[:290])


def test_card_buttons_skip_unusable_links_and_clip_labels(tiny_bot: Bot) -> None:
    entry_id = tiny_bot.knowledge.entries[0].id
    links = (
        Link(Text("ป้ายชื่อที่ยาวมาก " * 5, "very long label " * 5), "https://example.org/a"),
        Link(Text("ยาวเกิน", "too long"), "https://example.org/" + "x" * 1000),
        Link(Text("ไม่ใช่เว็บ", "not web"), "mailto:someone@example.org"),
    )
    reply = long_reply("ตอบ", entities=(entry_id,), links=links)
    body = request_body(reply, tiny_bot.knowledge)
    assert contract_errors(body) == []
    flex = body["messages"][-1]  # type: ignore[index]
    buttons = flex["contents"]["footer"]["contents"]
    assert [b["action"]["uri"] for b in buttons] == ["https://example.org/a"]


def test_unanswered_replies_have_no_card(tiny_bot: Bot) -> None:
    reply = Reply(text="ขออภัย", intent=None, confidence=0.1, status=Status.UNANSWERED,
                  lang=Lang.TH, entities=(tiny_bot.knowledge.entries[0].id,))  # fmt: skip
    body = request_body(reply, tiny_bot.knowledge)
    assert [m["type"] for m in body["messages"]] == ["text"]  # type: ignore[index]


# --- verifying and parsing webhooks ---------------------------------------------------------

PARSER = WebhookParser(SECRET)


def test_parse_verified_events_and_keep_unknown_types() -> None:
    body = payload(text("สวัสดี"), event("aBrandNewEvent"))
    message, unknown = parse_webhook(PARSER, body, sign(body))
    assert isinstance(message.message, TextMessageContent)
    assert isinstance(unknown, UnknownEvent)


@pytest.mark.parametrize("signature", [None, "", "abc", sign(b"{}")])
def test_parse_refuses_bad_signatures(signature: str | None) -> None:
    with pytest.raises(SignatureError):
        parse_webhook(PARSER, payload(), signature)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))  # fmt: skip
def test_parse_any_signed_json_gives_events_or_payload_error(data: object) -> None:
    body = json.dumps({"events": [data]} if isinstance(data, dict) else data).encode()
    with contextlib.suppress(PayloadError):
        parse_webhook(PARSER, body, sign(body))


# --- who a message is for -------------------------------------------------------------------


def group_text(message: str, **fields: object) -> TextMessageContent:
    return TextMessageContent(id="1", quoteToken="q", text=message, **fields)


GROUP = GroupSource(groupId="C1", userId="U1")


def test_one_to_one_messages_are_always_for_the_bot() -> None:
    assert addressed_text(group_text("ดีป้า"), UserSource(userId="U1")) == "ดีป้า"


@pytest.mark.parametrize(
    ("message", "expected"),
    [("บอท ดีป้าคืออะไร", "ดีป้าคืออะไร"), ("Bot: what is depa", "what is depa"),
     ("ดีป้าคืออะไร", None), ("ใครรู้เรื่องบอทบ้าง", None)],
)  # fmt: skip
def test_group_messages_need_a_wake_word(message: str, expected: str | None) -> None:
    assert addressed_text(group_text(message), GROUP) == expected


def test_group_mentions_of_the_bot_are_removed_from_the_question() -> None:
    mention = {"mentionees": [
        {"index": 0, "length": 4, "type": "user", "isSelf": False, "userId": "U9"},
        {"index": 5, "length": 7, "type": "user", "isSelf": True},
    ]}  # fmt: skip
    content = TextMessageContent.from_dict(
        {
            "id": "1",
            "type": "text",
            "quoteToken": "q",
            "text": "@ก้อ @น้อง😊 ซีเอสซีโอ",
            "mention": mention,
        }
    )
    assert addressed_text(content, GROUP) == "@ก้อ  ซีเอสซีโอ"


def test_user_keys_separate_users_groups_and_secrets() -> None:
    keys = UserKeys(b"one")
    alone = keys.for_source(UserSource(userId="U1"))
    in_group = keys.for_source(GROUP)
    other_group = keys.for_source(GroupSource(groupId="C2", userId="U1"))
    assert len({alone, in_group, other_group}) == 3
    assert UserKeys(b"two").for_source(UserSource(userId="U1")) != alone
    assert "U1" not in alone
