"""The HTTP face of the bot (FastAPI): `/callback` for LINE, `/healthz`, the local web chat.

The only module that speaks HTTP status codes. Everything stateful (trained bot, store,
LINE client) is built in the lifespan and kept on `app.state`; nothing runs at import.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from linebot.v3 import WebhookParser
from pydantic import BaseModel, Field

from bot import __version__
from bot.admin import bearer_ok, create_admin_app
from bot.config import Settings, get_settings
from bot.core import Bot
from bot.errors import KnowledgeError
from bot.events import Dispatcher, Runtime, UserKeys, take_turn
from bot.line import (
    MAX_BODY_BYTES,
    LineSender,
    PayloadError,
    SignatureError,
    parse_webhook,
)
from bot.metrics import CONTENT_TYPE_LATEST
from bot.reloader import Reloader
from bot.service import load_bot
from bot.store import Store
from bot.store_worker import StoreWorker

log = logging.getLogger(__name__)

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
PRUNE_EVERY_SECONDS = 600
DB_THREADS = 4
"""Store threads for PostgreSQL; turns are batched, so a few keep up (pool: 10 + 10)."""
DRAIN_SECONDS = 10.0
"""At shutdown, how long events in flight may take to finish their replies."""
LOCAL_MODE = (
    "LINE credentials are not set (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN): "
    "running in local mode. POST /callback answers 503; try the bot at / instead."
)


class ChatRequest(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    session: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


def create_app(settings: Settings | None = None, *, bot: Bot | None = None) -> FastAPI:
    """Build the app; the bot is trained (unless given) and the database opened at start."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            trained = bot or await asyncio.to_thread(load_bot, settings)
        except KnowledgeError as error:
            for problem in error.problems:
                log.error("knowledge problem: %s", problem)
            raise
        store = await asyncio.to_thread(Store.connect, settings.database_url)
        if settings.user_key_secret:
            secret = settings.user_key_secret.get_secret_value()
        else:
            secret = await asyncio.to_thread(store.secret, "user_key")
        sender = None
        if settings.line_enabled:
            assert settings.line_channel_secret and settings.line_channel_access_token
            app.state.parser = WebhookParser(settings.line_channel_secret.get_secret_value())
            sender = LineSender(
                base_url=settings.line_api_base_url,
                access_token=settings.line_channel_access_token.get_secret_value(),
                timeout=settings.line_api_timeout,
            )
            log.info("LINE mode: replies go to %s", settings.line_api_base_url)
        else:
            app.state.parser = None
            log.warning(LOCAL_MODE)
        db = StoreWorker(store, 1 if store.dialect == "sqlite" else DB_THREADS)
        app.state.runtime = Runtime(
            bot=trained, store=store, db=db, keys=UserKeys(secret.encode()), sender=sender
        )
        app.state.dispatcher = Dispatcher(lambda: app.state.runtime)
        app.state.loaded_at = datetime.now(UTC)
        app.state.reloader = reloader = Reloader(settings, app.state)
        pruner = asyncio.create_task(prune_periodically(app.state, settings.retention_days))
        reload_on_sighup(reloader)
        gc.freeze()  # the trained model's objects live forever: keep them out of GC pauses
        log.info(
            "ready: %d knowledge entries, knowledge version %s",
            len(trained.knowledge.entries), trained.version,
        )  # fmt: skip
        try:
            yield
        finally:
            pruner.cancel()
            await app.state.dispatcher.drain(DRAIN_SECONDS)
            if sender is not None:
                await sender.close()
            db.close()
            store.close()

    app = FastAPI(title="smartcity-bot", version=__version__, lifespan=lifespan)
    app.state.settings = settings

    @app.post("/callback")
    async def callback(request: Request) -> Response:
        """LINE's webhook: verify, hand the events to their tasks, answer 200 at once."""
        parser: WebhookParser | None = request.app.state.parser
        if parser is None:
            return JSONResponse({"error": LOCAL_MODE}, status_code=503)
        body = await read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return JSONResponse({"error": "body larger than 1 MB"}, status_code=413)
        try:
            events = parse_webhook(parser, body, request.headers.get("x-line-signature"))
        except (SignatureError, PayloadError) as error:
            log.warning("webhook refused: %s", error)
            return JSONResponse({"error": str(error)}, status_code=400)
        request.app.state.dispatcher.dispatch(events)
        return JSONResponse({})

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        runtime: Runtime = request.app.state.runtime
        try:
            await runtime.in_db(runtime.store.ping)
            database = "ok"
        except Exception as error:  # report, don't fail: the bot still answers without it
            database = f"unreachable: {type(error).__name__}"
        bot = runtime.bot
        return {
            "status": "ok" if database == "ok" else "degraded",
            "version": __version__,
            "mode": "line" if request.app.state.parser else "local",
            "database": database,
            "knowledge": {
                "version": bot.version,
                "entries": len(bot.knowledge.entries),
                "loaded_at": request.app.state.loaded_at.isoformat(),
            },
        }

    @app.get("/", response_class=HTMLResponse)
    async def chat_page(request: Request) -> Response:
        """A small web chat with the same core, for trying the bot without LINE."""
        if request.app.state.parser is not None:
            return JSONResponse({"error": "the web chat runs in local mode only"}, 404)
        return TEMPLATES.TemplateResponse(request, "chat.html", {"version": __version__})

    @app.post("/chat")
    async def chat(request: Request, message: ChatRequest) -> Response:
        if request.app.state.parser is not None:
            return JSONResponse({"error": "the web chat runs in local mode only"}, 404)
        runtime: Runtime = request.app.state.runtime
        user_key = runtime.keys.key("web", message.session)
        started = time.perf_counter()
        reply = await take_turn(runtime, user_key, message.text)
        assert reply is not None, "only a redelivered LINE event has no reply"
        runtime.metrics.latency.observe(time.perf_counter() - started)
        return JSONResponse(reply.as_dict())

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Prometheus text format; needs METRICS_TOKEN or ADMIN_TOKEN as a Bearer token."""
        tokens = [t.get_secret_value() for t in (settings.metrics_token, settings.admin_token) if t]
        if not tokens:
            return JSONResponse({"error": "metrics are off: set METRICS_TOKEN"}, status_code=404)
        if not any(bearer_ok(request, token) for token in tokens):
            return JSONResponse({"error": "Bearer token required"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        runtime: Runtime = request.app.state.runtime
        return Response(runtime.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    if settings.admin_token is not None:
        app.mount("/admin", create_admin_app(settings, app.state))

        @app.get("/admin", include_in_schema=False)
        async def admin_root() -> Response:
            return RedirectResponse("/admin/", status_code=307)

    return app


async def read_limited(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def prune_periodically(state: Any, retention_days: int) -> None:
    """Forget expired event ids and contexts, and logged questions past their retention."""
    while True:
        await asyncio.sleep(PRUNE_EVERY_SECONDS)
        runtime: Runtime = state.runtime
        now = datetime.now(UTC)
        try:
            removed = await runtime.in_db(
                runtime.store.prune, now=now, context_age=runtime.context_age
            )
            purged = await runtime.in_db(
                runtime.store.purge, before=now - timedelta(days=retention_days)
            )
            log.debug("pruned %d expired rows, purged %d old questions", removed, purged)
        except Exception as error:  # the database may be restarting; try again next time
            log.warning("pruning failed: %s", error)


def reload_on_sighup(reloader: Reloader) -> None:
    """`kill -HUP <pid>` reloads like `POST /admin/reload` (main thread only: tests run the
    app in a thread, where signal handlers cannot be installed)."""
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[Any]] = set()

    def on_signal() -> None:
        task = loop.create_task(reloader.reload())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    try:
        loop.add_signal_handler(signal.SIGHUP, on_signal)
    except (ValueError, RuntimeError, NotImplementedError):
        log.debug("SIGHUP reload unavailable outside the main thread")
