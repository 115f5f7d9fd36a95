"""A fake LINE Messaging API on 127.0.0.1 over real HTTP, for end-to-end tests and benches.

It records every reply request and can be told to fail: answer some requests with an
HTTP status (500, 429, …) or hold them longer than the bot's timeout. Runs its own event
loop in a thread, so tests can stay synchronous.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int


@dataclass
class FakeLine:
    """Start with `FakeLine().start()`; `url` is the base URL to give the bot."""

    requests: list[Received] = field(default_factory=list)
    plan: deque[tuple[int, float]] = field(default_factory=deque)
    """Planned (status, delay) answers for the next requests; then 200 without delay."""
    count_only: bool = False
    """For benches: keep no request bodies, only count them."""

    def __post_init__(self) -> None:
        self.condition = threading.Condition()
        self.ids = itertools.count(1)
        self.replies = 0
        self.loop = asyncio.new_event_loop()
        self.url = ""

    def start(self) -> FakeLine:
        ready = threading.Event()
        threading.Thread(target=self.serve, args=(ready,), daemon=True).start()
        if not ready.wait(10):
            raise RuntimeError("fake LINE API did not start")
        return self

    def serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/v2/bot/message/reply", self.reply)
        app.router.add_post("/v2/bot/message/push", self.reply)
        runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        ready.set()
        self.loop.run_forever()

    def fail_next(self, status: int, times: int = 1, delay: float = 0.0) -> None:
        with self.condition:
            self.plan.extend([(status, delay)] * times)

    def reset(self) -> None:
        with self.condition:
            self.requests.clear()
            self.plan.clear()
            self.replies = 0

    async def reply(self, request: web.Request) -> web.Response:
        raw = await request.read()
        request_id = f"fake-{next(self.ids)}"
        with self.condition:
            status, delay = self.plan.popleft() if self.plan else (200, 0.0)
            self.replies += 1
            if not self.count_only:
                self.requests.append(
                    Received(request.path, dict(request.headers), json.loads(raw), status)
                )
            self.condition.notify_all()
        if delay:
            await asyncio.sleep(delay)
        headers = {"x-line-request-id": request_id}
        if status != 200:
            return web.json_response({"message": "planned failure"}, status=status, headers=headers)
        sent = [{"id": str(next(self.ids)), "quoteToken": "q"} for _ in json.loads(raw)["messages"]]
        return web.json_response({"sentMessages": sent}, headers=headers)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least `count` requests arrived (returns them all)."""
        with self.condition:
            self.condition.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def for_token(self, token: str) -> list[Received]:
        with self.condition:
            return [r for r in self.requests if r.body.get("replyToken") == token]
