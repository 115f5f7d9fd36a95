"""Knowledge changes go live without a restart: validate, retrain, swap — or keep the old bot.

The running server holds one `Runtime` (bot + renderer + store…). A reload builds a new bot
from the files in a worker thread and, only if every file is valid, replaces the runtime in
one assignment. Events already running keep the runtime they started with, so no answer
mixes two versions. If anything is invalid, the old bot keeps answering and the problems
(file, line, field) are kept for the API, the log and the admin page.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.config import Settings
from bot.errors import KnowledgeError
from bot.events import Runtime
from bot.service import load_bot

log = logging.getLogger(__name__)


class State(Protocol):
    runtime: Runtime
    loaded_at: datetime


@dataclass(frozen=True)
class ReloadResult:
    ok: bool
    errors: tuple[str, ...]
    version: str
    """The knowledge version being served after the attempt."""
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        """The JSON of `POST /admin/reload`."""
        return {
            "ok": self.ok,
            "errors": list(self.errors),
            "version": self.version,
            "at": self.at.isoformat(),
        }


def refreeze() -> None:
    """Let the collector see the old bot's objects once, then freeze the new ones
    (see `gc.freeze` in web.py: long-lived objects kept out of collection pauses)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class Reloader:
    """One reload at a time; the last result is kept for the admin page."""

    def __init__(self, settings: Settings, state: State) -> None:
        self.settings = settings
        self.state = state
        self.lock = asyncio.Lock()
        self.last: ReloadResult | None = None

    async def reload(self) -> ReloadResult:
        async with self.lock:
            current = self.state.runtime
            try:
                bot = await asyncio.to_thread(load_bot, self.settings)
            except KnowledgeError as error:
                errors = tuple(str(problem) for problem in error.problems)
            except Exception as error:  # a missing folder, an unreadable file…
                errors = (f"{type(error).__name__}: {error}",)
            else:
                self.state.runtime = replace(current, bot=bot)  # same store, LINE client…
                self.state.loaded_at = datetime.now(UTC)
                refreeze()
                current.metrics.reloads.labels("ok").inc()
                log.info("reloaded: knowledge version %s → %s", current.bot.version, bot.version)
                self.last = ReloadResult(True, (), bot.version, self.state.loaded_at)
                return self.last
            for problem in errors:
                log.error("reload refused, still serving %s: %s", current.bot.version, problem)
            current.metrics.reloads.labels("failed").inc()
            self.last = ReloadResult(False, errors, current.bot.version, datetime.now(UTC))
            return self.last
