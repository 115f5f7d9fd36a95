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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property, partial
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
from bot.domain import Reply
from bot.line import ASK, LineSender, Renderer, messages_json, render_text
from bot.metrics import Metrics
from bot.store import Store, Turn
from bot.store_worker import StoreWorker

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
    """What handling an event needs. A reload makes a new one (`dataclasses.replace` with
    the new bot), so an event in flight keeps the bot and renderer it started with."""

    bot: Bot
    store: Store
    db: StoreWorker
    keys: UserKeys
    sender: LineSender | None = None
    metrics: Metrics = field(default_factory=Metrics)

    @cached_property
    def renderer(self) -> Renderer:
        return Renderer(self.bot.knowledge)

    @property
    def context_age(self) -> timedelta:
        return timedelta(seconds=self.bot.thresholds.context_seconds)

    async def in_db(self, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a blocking store call on the store's thread."""
        return await self.db.call(partial(call, *args, **kwargs))


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
    if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
        question = addressed_text(event.message, event.source)
        if question is not None:
            await answer(runtime, event, question)
        return
    if isinstance(event, PostbackEvent):
        question = parse_qs(event.postback.data or "").get(ASK, [""])[0].strip()
        if question:
            await answer(runtime, event, question)
        else:
            log.info("ignored postback with data %r", (event.postback.data or "")[:100])
        return
    notice = notice_for(runtime, event)
    if notice is None:
        log.info("ignored event type %s", getattr(event, "type", type(event).__name__))
    elif await runtime.db.turn(partial(first_delivery, getattr(event, "webhook_event_id", None))):
        await send(runtime, event, notice)


def notice_for(runtime: Runtime, event: Event) -> str | None:
    """The fixed reply (as LINE messages JSON) to an event that asks no question."""
    bot, render = runtime.bot, runtime.renderer
    if isinstance(event, FollowEvent):
        return render(bot.notice("welcome"))
    if isinstance(event, JoinEvent):
        return messages_json(render_text(bot.notice("group_intro").text))
    if isinstance(event, MessageEvent):
        if isinstance(event.message, StickerMessageContent):
            return render(bot.notice("sticker"))
        if isinstance(event.message, MEDIA):
            return render(bot.notice("text_only"))
    return None


def first_delivery(event_id: str | None, turn: Turn) -> bool:
    """False when this event was handled before (a redelivery); runs on the store's thread."""
    if event_id and not turn.claim(event_id, now=datetime.now(UTC)):
        log.info("event %s already handled: redelivery ignored", event_id)
        return False
    return True


async def answer(runtime: Runtime, event: Event, question: str) -> None:
    user_key = runtime.keys.for_source(event.source)
    event_id = getattr(event, "webhook_event_id", None)
    started = time.perf_counter()
    reply = await take_turn(runtime, user_key, question, event_id=event_id)
    if reply is not None:
        await send(runtime, event, runtime.renderer(reply))
        runtime.metrics.latency.observe(time.perf_counter() - started)


async def take_turn(
    runtime: Runtime, user_key: str, question: str, *, event_id: str | None = None
) -> Reply | None:
    """One question in a conversation (LINE or the local web chat); None for a redelivery.

    Runs on the store's thread inside a transaction (shared with other turns waiting at the
    same moment, see `store_worker`): claim the event, read the context, answer, record. The
    record is committed before any reply is sent, so the unanswered log holds the question
    even when LINE cannot be reached.
    """
    reply = await runtime.db.turn(partial(turn_in_db, runtime, user_key, question, event_id))
    if reply is not None:
        runtime.metrics.question(reply)
    return reply


def turn_in_db(
    runtime: Runtime, user_key: str, question: str, event_id: str | None, turn: Turn
) -> Reply | None:
    if not first_delivery(event_id, turn):
        return None
    now = datetime.now(UTC)
    context = turn.context(user_key, now=now, max_age=runtime.context_age)
    reply = runtime.bot.reply(question, context, now=now.timestamp())
    turn.record(user_key, question, reply, now=now, previous=context)
    return reply


async def send(runtime: Runtime, event: Event, messages: str) -> None:
    """Reply with `messages` (JSON, see `line.messages_json`) if LINE gave a reply token."""
    token = getattr(event, "reply_token", None)
    if runtime.sender is None or not token:
        return
    result = await runtime.sender.reply(token, messages)
    if not result.ok:
        runtime.metrics.line_errors.labels(str(result.status or 0)).inc()
        log.error(
            "no reply delivered for event %s (HTTP %s, x-line-request-id=%s)",
            getattr(event, "webhook_event_id", "?"),
            result.status,
            result.request_id,
        )
