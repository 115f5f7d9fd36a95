"""Everything that speaks LINE (line-bot-sdk v3): verify and parse webhooks, render, send.

Rendering turns the core's `Reply` into SDK message models within LINE's documented
limits; sending posts them with one shared connection pool, retrying only where a retry
cannot do harm.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import quote

import aiohttp
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    Configuration,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexText,
    Message,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TextMessage,
    URIAction,
)
from linebot.v3.webhooks import Event

from bot.domain import Context, Entry, Knowledge, Lang, Link, Reply

log = logging.getLogger(__name__)
ASK = "ask"
"""Postback data `ask=<question>`: the button stands for asking that question."""

MAX_BODY_BYTES = 1024 * 1024
"""Webhook bodies above 1 MB are refused (LINE's own are a few KB)."""
MAX_MESSAGES = 5
MAX_TEXT_UTF16 = 5000
MAX_QUICK_REPLY_ITEMS = 13
MAX_QUICK_REPLY_LABEL = 20
MAX_ACTION_TEXT = 300
MAX_BUTTON_LABEL = 40
MAX_ALT_TEXT = 1500
MAX_BUBBLE_BYTES = 30 * 1024
MAX_URI = 1000
MAX_CAROUSEL_BUBBLES = 12
MAX_CARD_BUTTONS = 3
CARD_SUMMARY_CHARS = 240
"""A card shows the start of a summary; the full answer is in the text message above it."""
POOL_SIZE = 100
"""Connections to LINE's API at once (aiohttp's default); more requests wait for one."""
RETRY_BACKOFF_SECONDS = 0.5
"""Wait before the one retry of a 5xx or timeout; jittered so replicas do not retry in step."""
ELLIPSIS = "…"


class SignatureError(ValueError):
    """The X-Line-Signature header is missing or does not match the body."""


class PayloadError(ValueError):
    """The body is not a LINE webhook object (bad JSON, not an object, no events list)."""


def parse_webhook(parser: WebhookParser, body: bytes, signature: str | None) -> list[Event]:
    """Verified events of a webhook body; unknown event types come back as `UnknownEvent`."""
    if not signature:
        raise SignatureError("missing X-Line-Signature header")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SignatureError("body is not UTF-8") from error
    if not parser.signature_validator.validate(text, signature):
        raise SignatureError("X-Line-Signature does not match the body")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as error:
        raise PayloadError(f"body is not JSON: {error}") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise PayloadError("body must be an object with an `events` list")
    if not all(isinstance(event, dict) for event in payload["events"]):
        raise PayloadError("every item of `events` must be an object")
    try:
        return parser.parse(text, signature)
    except InvalidSignatureError as error:  # pragma: no cover - verified above
        raise SignatureError(str(error)) from error
    except (ValueError, TypeError, KeyError) as error:
        raise PayloadError(f"malformed event: {error}") from error


# --- rendering -------------------------------------------------------------------------


def utf16_length(text: str) -> int:
    """LINE counts text limits in UTF-16 code units (an emoji counts 2).

    >>> utf16_length("ก😊")
    3
    """
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Cut to at most `limit` characters, ending in "…" when cut.

    >>> clip("เมืองอัจฉริยะนำร่อง", 8)
    'เมืองอั…'
    """
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and is_mark(text[cut]):  # keep a vowel or tone mark with its consonant
        cut -= 1
    return text[:cut] + ELLIPSIS


def is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


SENTENCE_BREAK = re.compile(r"(?<=\n)|(?<=[.!?] )|(?<=ค่ะ )|(?<=คะ )|(?<=ครับ )")
"""Zero-width points after a line or a sentence, where a long answer may be split."""
WORD_BREAK = re.compile(r"(?<= )")


def split_text(text: str, limit: int = MAX_TEXT_UTF16) -> list[str]:
    r"""Split into pieces of at most `limit` UTF-16 units, at sentence ends where possible.

    >>> split_text("หนึ่ง. สอง. สาม.", limit=10)
    ['หนึ่ง.', 'สอง. สาม.']
    >>> split_text("• ก\n• ข\n• ค", limit=7)
    ['• ก', '• ข\n• ค']
    >>> split_text("กี่กี่กี่", limit=4)  # never between a consonant and its marks
    ['กี่', 'กี่', 'กี่']
    """
    pieces: list[str] = []
    current = ""
    for segment in fitting_segments(text, limit):
        if utf16_length(current + segment) > limit:
            pieces.append(current)
            current = ""
        current += segment
    pieces.append(current)
    return [piece.strip() for piece in pieces if piece.strip()]


def fitting_segments(text: str, limit: int) -> list[str]:
    """Sentences (or, failing that, words, then characters) that each fit the limit."""
    result: list[str] = []
    for sentence in SENTENCE_BREAK.split(text):
        if utf16_length(sentence) <= limit:
            result.append(sentence)
            continue
        for word in WORD_BREAK.split(sentence):
            result.extend(hard_split(word, limit) if utf16_length(word) > limit else [word])
    return result


def hard_split(text: str, limit: int) -> list[str]:
    """Cut a word with no spaces, never between a letter and its combining marks."""
    pieces: list[str] = []
    while utf16_length(text) > limit:
        cut = limit
        while utf16_length(text[:cut]) > limit:
            cut -= 1
        while cut > 1 and is_mark(text[cut]):
            cut -= 1
        pieces.append(text[:cut])
        text = text[cut:]
    return [*pieces, text]


def quick_reply(suggestions: Sequence[str]) -> QuickReply | None:
    """Suggestions as quick-reply buttons that ask the full question when tapped."""
    items = [
        QuickReplyItem(action=ask_action(suggestion))
        for suggestion in dict.fromkeys(s.strip() for s in suggestions if s.strip())
    ][:MAX_QUICK_REPLY_ITEMS]
    return QuickReply(items=items) if items else None


def ask_action(question: str) -> PostbackAction | MessageAction:
    """A postback `ask=<question>` that shows the question in the chat as if typed.

    A postback, not a message action: in a group, a tapped message would lack the wake
    word and be ignored. Only ASCII is percent-encoded (Thai stays as is, so questions fit
    LINE's 300-character data); longer questions fall back to sending the text.

    >>> from urllib.parse import parse_qs
    >>> parse_qs(ask_action("ดีป้า & NIA?").data)
    {'ask': ['ดีป้า & NIA?']}
    """
    label = clip(question, MAX_QUICK_REPLY_LABEL)
    data = f"{ASK}=" + "".join(c if ord(c) > 127 else quote(c, safe="") for c in question)
    if len(data) <= MAX_ACTION_TEXT:
        return PostbackAction(label=label, data=data, display_text=clip(question, MAX_ACTION_TEXT))
    return MessageAction(label=label, text=clip(question, MAX_ACTION_TEXT))


def link_button(link: Link, lang: Lang) -> FlexButton | None:
    if len(link.url) > MAX_URI or not link.url.startswith(("https://", "http://")):
        return None
    label = clip(link.label.in_(lang), MAX_BUTTON_LABEL)
    return FlexButton(action=URIAction(label=label, uri=link.url), style="link", height="sm")


def entry_bubble(entry: Entry, links: Sequence[Link], lang: Lang) -> FlexBubble:
    """A card: the entry's name, the start of its summary, and its link buttons."""
    body = FlexBox(
        layout="vertical",
        spacing="sm",
        contents=[
            FlexText(text=entry.name.in_(lang), weight="bold", size="md", wrap=True),
            FlexText(
                text=clip(entry.summary.in_(lang), CARD_SUMMARY_CHARS),
                size="sm",
                color="#555555",
                wrap=True,
            ),
        ],
    )
    buttons = [b for b in (link_button(link, lang) for link in links) if b][:MAX_CARD_BUTTONS]
    footer = FlexBox(layout="vertical", contents=list(buttons)) if buttons else None
    return FlexBubble(size="kilo", body=body, footer=footer)


def list_entries(reply: Reply, knowledge: Knowledge) -> list[Entry]:
    """The member entries of a list answer ("which cities…"), shown as a carousel."""
    if reply.intent != "members" or not reply.entities:
        return []
    entry = knowledge.get(reply.entities[0]) if reply.entities[0] in knowledge else None
    if entry is None:
        return []
    refs = [member.ref for member in entry.members if member.ref and member.ref in knowledge]
    return [knowledge.get(ref) for ref in refs][:MAX_CAROUSEL_BUBBLES]


def card(reply: Reply, knowledge: Knowledge) -> FlexMessage | None:
    """A Flex card for an answered question with links, or a carousel for a list answer."""
    if not reply.answered or not reply.entities:
        return None
    members = list_entries(reply, knowledge)
    if len(members) >= 2:
        bubbles = [entry_bubble(m, m.links, reply.lang) for m in members]
        contents: FlexBubble | FlexCarousel = FlexCarousel(contents=bubbles)
    elif reply.links and reply.entities[0] in knowledge:
        contents = entry_bubble(knowledge.get(reply.entities[0]), reply.links, reply.lang)
    else:
        return None
    while len(json.dumps(contents.to_dict(), ensure_ascii=False).encode()) > MAX_BUBBLE_BYTES:
        if not isinstance(contents, FlexCarousel) or len(contents.contents) <= 1:
            return None
        contents = FlexCarousel(contents=contents.contents[:-1])
    return FlexMessage(alt_text=clip(reply.text, MAX_ALT_TEXT), contents=contents)


def render_reply(reply: Reply, knowledge: Knowledge) -> list[Message]:
    """LINE messages for a reply: the text (split if long), a card, quick-reply suggestions."""
    extra = card(reply, knowledge)
    room = MAX_MESSAGES - (1 if extra else 0)
    texts = split_text(reply.text) or [" "]
    if len(texts) > room:
        texts = [*texts[: room - 1], clip(" ".join(texts[room - 1 :]), MAX_TEXT_UTF16 // 2)]
    messages: list[Message] = [TextMessage(text=text) for text in texts]
    if extra:
        messages.append(extra)
    messages[-1].quick_reply = quick_reply(reply.suggestions)
    return messages


def render_text(text: str, suggestions: Sequence[str] = ()) -> list[Message]:
    """A plain text reply with optional quick-reply suggestions (welcome, stickers, media)."""
    return [TextMessage(text=clip(text, MAX_TEXT_UTF16 // 2), quick_reply=quick_reply(suggestions))]


def messages_json(messages: Sequence[Message]) -> str:
    """The `messages` array as LINE receives it, serialised by the SDK's models."""
    return json.dumps([message.to_dict() for message in messages], ensure_ascii=False)


class Renderer:
    """`render_reply` for one knowledge version, remembering recent results as JSON.

    The same answers go out again and again, and the SDK's models take about as long to
    build and serialise as the core takes to answer.
    """

    def __init__(self, knowledge: Knowledge, cache_size: int = 4096) -> None:
        self.knowledge = knowledge
        self.rendered = lru_cache(maxsize=cache_size)(self.render)

    def __call__(self, reply: Reply) -> str:
        """Rendering ignores confidence, normalised text and context: drop them from the key."""
        return self.rendered(replace(reply, confidence=1.0, normalised="", context=Context()))

    def render(self, reply: Reply) -> str:
        return messages_json(render_reply(reply, self.knowledge))


# --- sending ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status: int | None = None
    request_id: str | None = None
    attempts: int = 1


class LineSender:
    """Sends replies through the SDK's `AsyncApiClient` (create it inside a running loop).

    The client's aiohttp session is swapped for one that does not read proxy settings and
    ~/.netrc on every request (`trust_env`), which cost ~5% of the server's CPU under load;
    SDK calls and replies share its one connection pool.
    """

    def __init__(self, *, base_url: str, access_token: str, timeout: float) -> None:
        configuration = Configuration(host=base_url.rstrip("/"), access_token=access_token)
        self.client = AsyncApiClient(configuration)
        sdk_session: aiohttp.ClientSession = self.client.rest_client.pool_manager
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=POOL_SIZE), trust_env=False
        )
        self.client.rest_client.pool_manager = self.session
        self.closing = sdk_session.close()
        self.url = f"{base_url.rstrip('/')}/v2/bot/message/reply"
        self.headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json",
            "User-Agent": self.client.user_agent,
        }
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def close(self) -> None:
        await self.closing
        await self.client.close()

    async def reply(self, reply_token: str, messages: str) -> SendResult:
        """Send a `ReplyMessageRequest` (messages as from `messages_json`); retry once after a
        5xx or timeout, never after a 4xx.

        Posted on the SDK client's session rather than through `AsyncMessagingApi`, whose
        generated call costs more than the rest of a reply (see README, "Speed").
        """
        body = f'{{"replyToken": {json.dumps(reply_token)}, "messages": {messages}}}'.encode()
        status: int | None = None
        request_id: str | None = None
        for attempt in (1, 2):
            try:
                async with self.session.post(
                    self.url, data=body, headers=self.headers, timeout=self.timeout
                ) as response:
                    status = response.status
                    request_id = response.headers.get("x-line-request-id")
                    detail = await response.text()
                if 200 <= status < 300:
                    return SendResult(True, status, request_id, attempt)
                log.warning(
                    "LINE reply failed: HTTP %s, x-line-request-id=%s, attempt %d: %s",
                    status, request_id, attempt, detail[:300],
                )  # fmt: skip
                if status < 500:
                    break
            except (TimeoutError, aiohttp.ClientError) as error:
                status = None
                log.warning(
                    "LINE reply failed: %s, attempt %d", type(error).__name__ or error, attempt
                )
            if attempt == 1:
                await asyncio.sleep(RETRY_BACKOFF_SECONDS * (1 + random.random()))
        return SendResult(False, status, request_id, attempt)
