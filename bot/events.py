"""What the bot does with each LINE webhook event: dedupe, context, answer, log, reply.

The web adapter hands verified events to `Dispatcher.dispatch` and answers LINE at once;
each event then runs as its own task, so a slow LINE API call never holds the webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qs

from linebot.v3.webhooks import (
    AudioMessageContent,
    Event,
    FileMessageContent,
    FollowEvent,
    GroupSource,
    ImageMessageContent,
    JoinEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    RoomSource,
    Source,
    StickerMessageContent,
    TextMessageContent,
    VideoMessageContent,
)

from bot.core import Bot
from bot.domain import Context, Reply, Status
from bot.line import LineSender, Renderer, messages_json, render_text
from bot.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

WAKE_WORDS = ("น้องบอท", "บอท", "bot")
"""In a group, a message that starts with one of these is addressed to the bot."""
MEDIA = (
    ImageMessageContent,
    VideoMessageContent,
    AudioMessageContent,
    FileMessageContent,
    LocationMessageContent,
)
ASK = "ask"
"""Postback data `ask=<question>`: the button stands for asking that question."""


class UserKeys:
    """Keyed hashes of LINE ids (PDPA): the store never sees a raw user id.

    >>> keys = UserKeys(b"secret")
    >>> keys.key("user", "U1") == keys.key("user", "U1") != keys.key("user", "U2")
    True
    >>> len(keys.key("user", "U1"))
    64
    """

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def key(self, *parts: str) -> str:
        return hmac.new(self.secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()

    def for_source(self, source: Source | None) -> str:
        """One conversation per user, and per user within each group or room."""
        user = getattr(source, "user_id", None) or "anonymous"
        if isinstance(source, GroupSource):
            return self.key("group", source.group_id, user)
        if isinstance(source, RoomSource):
            return self.key("room", source.room_id, user)
        return self.key("user", user)


@dataclass(frozen=True)
class Runtime:
    """What handling an event needs. A reload builds a new one, so an event in flight keeps
    the bot and renderer it started with."""

    bot: Bot
    renderer: Renderer
    store: Store
    db: Executor
    """Runs the store's blocking calls: one thread for SQLite (one writer at a time, instead
    of writers waiting on its lock), a pool for PostgreSQL."""
    keys: UserKeys
    sender: LineSender | None = None
    context_age: timedelta = timedelta(minutes=10)

    async def in_db(self, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.db, partial(call, *args, **kwargs))


def addressed_text(message: TextMessageContent, source: Source | None) -> str | None:
    """The question in a text message, or None when a group message is not for the bot.

    In a 1:1 chat every message is for the bot. In a group or room it must mention the bot
    or start with a wake word; the mention or wake word is removed from the question.
    """
    text = message.text or ""
    if not isinstance(source, GroupSource | RoomSource):
        return text
    mentionees = message.mention.mentionees if message.mention else []
    own = [m for m in mentionees if getattr(m, "is_self", False)]
    if own:
        return remove_spans(text, [(m.index, m.length) for m in own]).strip()
    lowered = text.lstrip().lower()
    for word in WAKE_WORDS:
        if lowered.startswith(word):
            return text.lstrip()[len(word) :].lstrip(" ,:：-").strip()
    return None


def remove_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """Remove (index, length) spans counted, as LINE counts them, in UTF-16 code units.

    >>> remove_spans("@น้องบอท ซีเอสซีโอ", [(0, 8)])
    ' ซีเอสซีโอ'
    """
    units = text.encode("utf-16-le")
    for index, length in sorted(spans, reverse=True):
        units = units[: 2 * index] + units[2 * (index + length) :]
    return units.decode("utf-16-le", errors="ignore")


class Dispatcher:
    """Runs each event as a task and remembers them, so shutdown can wait for them."""

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self.runtime = runtime
        self.tasks: set[asyncio.Task[None]] = set()

    def dispatch(self, events: Iterable[Event]) -> None:
        runtime = self.runtime()
        for event in events:
            task = asyncio.create_task(handle_event(runtime, event))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def drain(self, timeout: float) -> None:
        """Wait for events in flight (at shutdown), at most `timeout` seconds."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


async def handle_event(runtime: Runtime, event: Event) -> None:
    """Handle one event; failures are logged, never raised (the webhook has been answered)."""
    try:
        await process_event(runtime, event)
    except Exception:
        log.exception("event %s failed", getattr(event, "webhook_event_id", "?"))


async def process_event(runtime: Runtime, event: Event) -> None:
    if getattr(event, "mode", None) == "standby":
        log.debug("standby event %s: another channel answers", event.webhook_event_id)
        return
    event_id = getattr(event, "webhook_event_id", None)
    now = datetime.now(UTC)
    if event_id and not await runtime.in_db(runtime.store.claim_event, event_id, now=now):
        log.info("event %s already handled: redelivery ignored", event_id)
        return
    bot, render = runtime.bot, runtime.renderer
    if isinstance(event, MessageEvent):
        message = event.message
        if isinstance(message, TextMessageContent):
            question = addressed_text(message, event.source)
            if question is not None:
                await answer(runtime, event, question)
        elif isinstance(message, StickerMessageContent):
            await send(runtime, event, render(bot.notice("sticker")))
        elif isinstance(message, MEDIA):
            await send(runtime, event, render(bot.notice("text_only")))
        else:
            log.info("ignored message type %s", getattr(message, "type", "?"))
    elif isinstance(event, FollowEvent):
        await send(runtime, event, render(bot.notice("welcome")))
    elif isinstance(event, JoinEvent):
        await send(runtime, event, messages_json(render_text(bot.notice("group_intro").text)))
    elif isinstance(event, PostbackEvent):
        question = parse_qs(event.postback.data or "").get(ASK, [""])[0].strip()
        if question:
            await answer(runtime, event, question)
        else:
            log.info("ignored postback with data %r", (event.postback.data or "")[:100])
    else:
        log.info("ignored event type %s", getattr(event, "type", type(event).__name__))


async def answer(runtime: Runtime, event: Event, question: str) -> None:
    reply = await take_turn(runtime, runtime.keys.for_source(event.source), question)
    await send(runtime, event, runtime.renderer(reply))


async def take_turn(runtime: Runtime, user_key: str, question: str) -> Reply:
    """One question in a conversation: its context in, the answer out, unanswered ones logged.

    Shared by LINE and the local web chat; the log is written before any reply is sent, so
    it holds the question even when LINE cannot be reached.
    """
    now = datetime.now(UTC)
    store = runtime.store
    context = await runtime.in_db(
        store.load_context, user_key, now=now, max_age=runtime.context_age
    )
    reply = runtime.bot.reply(question, context, now=time.time())

    changed = reply.context != (context or Context())
    unanswered = reply.status is Status.UNANSWERED
    if changed or unanswered:
        await runtime.in_db(
            store.save_turn,
            user_key,
            now=now,
            context=reply.context if changed else None,
            unanswered_text=question,
            unanswered_reply=reply if unanswered else None,
        )
    return reply


async def send(runtime: Runtime, event: Event, messages: str) -> None:
    """Reply with `messages` (JSON, see `line.messages_json`) if LINE gave a reply token."""
    token = getattr(event, "reply_token", None)
    if runtime.sender is None or not token:
        return
    result = await runtime.sender.reply(token, messages)
    if not result.ok:
        log.error(
            "no reply delivered for event %s (HTTP %s, x-line-request-id=%s)",
            getattr(event, "webhook_event_id", "?"),
            result.status,
            result.request_id,
        )
