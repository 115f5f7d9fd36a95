"""Closed-loop load through the full path: signed webhook → server → reply at a fake LINE API.

N simulated users each send a text event, wait until its reply reaches the fake LINE API,
and send the next. Measured side by side in one run: the real bot (`smartcity-bot serve`,
SQLite store) and an echo bot on the same stack (bench/echo_bot.py), naive (the SDK's
`reply_message`) and with the SDK call replaced the way bot/line.py does.

    .venv/bin/python bench/webhook_load.py [--users 64] [--seconds 15] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from ruamel.yaml import YAML

from bot.evaluate import parse_cases

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret"
TOKEN = "bench-token"
WARM_UP_SECONDS = 3.0


@dataclass
class Result:
    name: str
    replies: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0

    @property
    def throughput(self) -> float:
        return self.replies / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))]


class FakeLine:
    """Resolves a future per reply token when the server's reply arrives."""

    def __init__(self) -> None:
        self.pending: dict[str, asyncio.Future[None]] = {}
        self.ids = itertools.count()

    async def reply(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        future = self.pending.pop(body["replyToken"], None)
        if future is not None and not future.done():
            future.set_result(None)
        sent = [{"id": str(next(self.ids)), "quoteToken": "q"} for _ in body["messages"]]
        return web.json_response({"sentMessages": sent}, headers={"x-line-request-id": "bench"})

    async def start(self) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_post("/v2/bot/message/reply", self.reply)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, f"http://127.0.0.1:{port}"


def questions() -> list[str]:
    """Every turn of the held-out file: realistic messages, answered and refused."""
    data = YAML(typ="safe").load((ROOT / "tests" / "data" / "heldout.yaml").read_text())
    return [turn.text for case in parse_cases(data) for turn in case.turns]


def webhook(text: str, user: int, token: str) -> bytes:
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": f"U{user:032d}"},
        "webhookEventId": uuid.uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        "replyToken": token,
        "message": {"type": "text", "id": "1", "quoteToken": "q", "text": text},
    }
    return json.dumps({"destination": "Ubench", "events": [event]}, ensure_ascii=False).encode()


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak RSS of a process and its children (uvicorn workers), summed."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024  # absent for a zombie
    peak = int(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        child_rss, child_peak = rss_mb(int(child))
        rss, peak = rss + child_rss, peak + child_peak
    return rss, peak


def start_server(name: str, port: int, fake_url: str, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": fake_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "PYTHAINLP_OFFLINE": "1",
        "PYTHAINLP_READ_ONLY": "1",
    }
    if name.startswith("bot"):
        workers = "2" if "2 workers" in name else "1"
        command = [str(Path(sys.executable).parent / "smartcity-bot"), "serve", "--port", str(port),
                   "--log-level", "warning", "--workers", workers]  # fmt: skip
    else:
        command = [sys.executable, str(ROOT / "bench" / "echo_bot.py"), "--port", str(port)]
        if name == "echo, SDK call replaced":
            command.append("--direct")
    return subprocess.Popen(command, env=env, cwd=workdir)


async def wait_until_up(session: aiohttp.ClientSession, url: str) -> None:
    body = b'{"destination": "U", "events": []}'
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            async with session.post(url, data=body, headers=signed(body)) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def signed(body: bytes) -> dict[str, str]:
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return {"x-line-signature": signature.decode(), "content-type": "application/json"}


async def measure(name: str, *, users: int, seconds: float, texts: list[str]) -> Result:
    fake = FakeLine()
    runner, fake_url = await fake.start()
    port = 18000 + hash(name) % 1000
    url = f"http://127.0.0.1:{port}/callback"
    with tempfile.TemporaryDirectory() as workdir:
        process = start_server(name, port, fake_url, Path(workdir))
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                await wait_until_up(session, url)
                result = Result(name, 0, seconds)
                start = time.monotonic()
                measure_from, stop_at = start + WARM_UP_SECONDS, start + WARM_UP_SECONDS + seconds

                async def user(number: int) -> None:
                    for turn in itertools.count():
                        if time.monotonic() >= stop_at:
                            return
                        token = uuid.uuid4().hex
                        done = asyncio.get_running_loop().create_future()
                        fake.pending[token] = done
                        body = webhook(texts[(number * 7 + turn) % len(texts)], number, token)
                        sent = time.monotonic()
                        try:
                            async with session.post(url, data=body, headers=signed(body)) as r:
                                ok = r.status == 200
                                await r.read()
                            if ok:
                                await asyncio.wait_for(done, 10)
                        except (TimeoutError, aiohttp.ClientError):
                            ok = False
                        if sent >= measure_from and time.monotonic() <= stop_at:
                            if ok:
                                result.replies += 1
                                result.latencies.append(time.monotonic() - sent)
                            else:
                                result.errors += 1

                await asyncio.gather(*(user(n) for n in range(users)))
                result.rss_mb, result.peak_rss_mb = rss_mb(process.pid)
            finally:
                process.terminate()
                process.wait(30)
                await runner.cleanup()
    return result


async def run(users: int, seconds: float, rounds: int, extra: list[str]) -> None:
    texts = questions()
    names = ["bot", "echo, naive SDK", "echo, SDK call replaced", *extra]
    results: dict[str, list[Result]] = {name: [] for name in names}
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            result = await measure(name, users=users, seconds=seconds, texts=texts)
            results[name].append(result)
            print(
                f"round {round_number + 1} {name:<24} {result.throughput:7.0f} replies/s  "
                f"p50 {result.percentile(0.5):6.1f} ms  p99 {result.percentile(0.99):6.1f} ms  "
                f"errors {result.errors}  RSS {result.rss_mb:.0f} MB "
                f"(peak {result.peak_rss_mb:.0f})",
                flush=True,
            )
    print(
        f"\n{users} concurrent users, {seconds:.0f} s per run after {WARM_UP_SECONDS:.0f} s "
        f"warm-up, {rounds} round(s); median over rounds"
    )
    print("| server | replies/s | p50 ms | p99 ms | errors | RSS MB (peak) |")
    print("|---|---|---|---|---|---|")
    summary = {}
    for name in names:
        runs = results[name]
        summary[name] = (
            statistics.median(r.throughput for r in runs),
            statistics.median(r.percentile(0.99) for r in runs),
        )
        print(
            f"| {name} | {summary[name][0]:.0f} | "
            f"{statistics.median(r.percentile(0.5) for r in runs):.1f} | {summary[name][1]:.1f} | "
            f"{sum(r.errors for r in runs)} | {max(r.rss_mb for r in runs):.0f} "
            f"({max(r.peak_rss_mb for r in runs):.0f}) |"
        )
    bot, echo = summary["bot"], summary["echo, naive SDK"]
    print(f"\nbot / naive echo: throughput {bot[0] / echo[0]:.2f}× (target ≥ 0.9), "
          f"p99 {bot[1] / echo[1]:.2f}× (target ≤ 1.5)")  # fmt: skip


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--users", type=int, default=64)
    options.add_argument("--seconds", type=float, default=15.0)
    options.add_argument("--rounds", type=int, default=2)
    options.add_argument(
        "--workers", action="store_true", help="also measure the bot with 2 worker processes"
    )
    args = options.parse_args()
    extra = ["bot, 2 workers"] if args.workers else []
    asyncio.run(run(args.users, args.seconds, args.rounds, extra))


if __name__ == "__main__":
    main()
