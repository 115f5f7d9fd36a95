"""The admin web page and API (`/admin`), mounted only when `ADMIN_TOKEN` is set.

Server-rendered (Jinja2) with its CSS and a few lines of JavaScript served by the app
itself: the machines it runs on may have no internet. A browser logs in with the token and
gets a signed session cookie (HttpOnly, SameSite=Strict, 8 hours); every form carries the
session's CSRF token. Scripts use `Authorization: Bearer <ADMIN_TOKEN>` instead, which
needs no CSRF token because browsers never send it on their own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from bot import __version__
from bot.config import Settings
from bot.domain import KNOWN_INTENTS
from bot.events import Runtime
from bot.operators import ignore, promote
from bot.reloader import Reloader
from bot.review import OPEN, STATUSES, UnansweredGroup, group_messages

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates" / "admin")
SESSION_SECONDS = 8 * 3600
CHART_DAYS = 14
TABS = {"new": "ใหม่ New", "low_confidence": "ไม่แน่ใจ Low confidence",
        "promoted": "สอนแล้ว Promoted", "ignored": "ข้าม Ignored"}  # fmt: skip


def bearer_ok(request: Request, token: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


def create_admin_app(settings: Settings, state: Any) -> FastAPI:
    """The `/admin` sub-application; `state` is the main app's state (runtime, reloader)."""
    assert settings.admin_token is not None
    token = settings.admin_token.get_secret_value()
    admin = FastAPI(title="smartcity-bot admin", docs_url=None, redoc_url=None, openapi_url=None)
    session_key = hmac.new(token.encode(), b"admin-session", hashlib.sha256).hexdigest()
    admin.add_middleware(
        SessionMiddleware, secret_key=session_key, session_cookie="smartcity_admin",
        max_age=SESSION_SECONDS, same_site="strict", path="/admin",
    )  # fmt: skip
    admin.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def runtime() -> Runtime:
        return state.runtime

    def logged_in(request: Request) -> bool:
        return request.session.get("admin") is True

    def csrf_token(request: Request) -> str:
        if "csrf" not in request.session:
            request.session["csrf"] = secrets.token_urlsafe(32)
        return str(request.session["csrf"])

    async def form_ok(request: Request) -> dict[str, str] | None:
        """The posted form if its CSRF token matches this session's; otherwise None."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        expected = request.session.get("csrf", "")
        given = form.get("csrf", "")
        if not expected or not hmac.compare_digest(given.encode(), str(expected).encode()):
            return None
        return form

    def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        flash = request.session.pop("flash", None)
        context |= {"csrf": csrf_token(request), "flash": flash, "version": __version__,
                    "knowledge_version": runtime().bot.version}  # fmt: skip
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status_code)

    def to(path: str, request: Request, flash: str | None = None) -> Response:
        if flash:
            request.session["flash"] = flash
        return RedirectResponse(f"/admin{path}", status_code=303)

    def login_required(request: Request) -> Response | None:
        return None if logged_in(request) else to("/login", request)

    forbidden = JSONResponse({"error": "CSRF token missing or wrong; reload the page"}, 403)

    @admin.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request) -> Response:
        return page(request, "login.html", error=None)

    @admin.post("/login")
    async def login(request: Request) -> Response:
        form = await form_ok(request)
        if form is None:
            return forbidden
        if not hmac.compare_digest(form.get("token", "").encode(), token.encode()):
            log.warning(
                "admin login refused from %s", request.client.host if request.client else "?"
            )
            return page(request, "login.html", 401, error="รหัสไม่ถูกต้อง Wrong token")
        request.session.clear()  # a fresh session and CSRF token after logging in
        request.session["admin"] = True
        return to("/", request)

    @admin.post("/logout")
    async def logout(request: Request) -> Response:
        if await form_ok(request) is not None:
            request.session.clear()
        return to("/login", request)

    @admin.get("/", response_class=HTMLResponse)
    async def dashboard(request: Request) -> Response:
        if redirect := login_required(request):
            return redirect
        live = runtime()
        today = datetime.now(UTC)
        since = today - timedelta(days=CHART_DAYS - 1)
        daily = await live.in_db(live.store.daily_counts, since=since)
        intents = await live.in_db(live.store.top_intents, since=today - timedelta(days=30))
        groups = await grouped(live, OPEN)
        reloader: Reloader = state.reloader
        return page(
            request, "dashboard.html", days=chart_days(daily, since.date(), CHART_DAYS),
            intents=intents, groups=groups[:5], open_count=sum(g.count for g in groups),
            loaded_at=state.loaded_at, entries=len(live.bot.knowledge.entries),
            last_reload=reloader.last,
        )  # fmt: skip

    @admin.get("/inbox", response_class=HTMLResponse)
    async def inbox(request: Request, status: str = "new", q: str = "") -> Response:
        if redirect := login_required(request):
            return redirect
        status = status if status in STATUSES else "new"
        live = runtime()
        groups = await grouped(live, (status,), search=q.strip())
        return page(
            request, "inbox.html", groups=groups, status=status, tabs=TABS, q=q,
            intents=KNOWN_INTENTS, entries=live.bot.knowledge.entries,
        )  # fmt: skip

    async def review(
        request: Request, failed: str, act: Callable[[Runtime, dict[str, str]], Any]
    ) -> Response:
        """A promote or ignore form: check it, act on the store's thread, back to the tab."""
        if redirect := login_required(request):
            return redirect
        form = await form_ok(request)
        if form is None:
            return forbidden
        try:
            message = await act(runtime(), form)
        except LookupError as error:
            message = f"ไม่สำเร็จ {failed}: {error}"
        return to(f"/inbox?status={form.get('status', 'new')}", request, message)

    @admin.post("/inbox/{group_id}/promote")
    async def promote_group(request: Request, group_id: int) -> Response:
        return await review(request, "Not promoted", lambda live, form: live.in_db(
            promote, live.store, settings, group_id,
            intent=form.get("intent", ""), entity=form.get("entity") or None,
        ))  # fmt: skip

    @admin.post("/inbox/{group_id}/ignore")
    async def ignore_group(request: Request, group_id: int) -> Response:
        return await review(
            request, "Not ignored", lambda live, form: live.in_db(ignore, live.store, group_id)
        )

    @admin.get("/knowledge", response_class=HTMLResponse)
    async def knowledge(request: Request, q: str = "") -> Response:
        if redirect := login_required(request):
            return redirect
        entries = runtime().bot.knowledge.entries
        needle = q.strip().lower()
        if needle:
            entries = tuple(
                e for e in entries
                if any(needle in name.lower() for name in (e.id, *e.names()))
            )  # fmt: skip
        return page(request, "knowledge.html", entries=entries, q=q)

    @admin.post("/reload")
    async def reload(request: Request) -> Response:
        """Bearer: JSON `{ok, errors, version, at}` (422 when refused). Browser: back to
        the dashboard, which shows the result."""
        if bearer_ok(request, token):
            result = await state.reloader.reload()
            return JSONResponse(result.as_dict(), status_code=200 if result.ok else 422)
        if not logged_in(request):
            return JSONResponse({"error": "admin token required"}, status_code=401)
        if await form_ok(request) is None:
            return forbidden
        result = await state.reloader.reload()
        message = (f"โหลดความรู้ใหม่แล้ว Reloaded: version {result.version}" if result.ok
                   else f"ไม่ได้โหลด Not reloaded: {len(result.errors)} problem(s)")  # fmt: skip
        return to("/", request, message)

    return admin


async def grouped(
    live: Runtime, statuses: tuple[str, ...], search: str = ""
) -> list[UnansweredGroup]:
    """The logged questions with these statuses, grouped, on the store's thread."""
    return await live.in_db(lambda: group_messages(live.store.logged(statuses, search=search)))


def chart_days(daily: list[tuple[str, int, int]], first: date, days: int) -> list[dict[str, Any]]:
    """One bar per day (days without messages included): total, answered, share, height."""
    counts = {day: (total, answered) for day, total, answered in daily}
    peak = max((total for total, _ in counts.values()), default=0) or 1
    bars = []
    for offset in range(days):
        day = (first + timedelta(days=offset)).isoformat()
        total, answered = counts.get(day, (0, 0))
        bars.append({
            "day": day, "label": day[5:], "total": total, "answered": answered,
            "share": round(100 * answered / total) if total else None,
            "height": round(100 * total / peak), "answered_height": round(100 * answered / peak),
        })  # fmt: skip
    return bars
