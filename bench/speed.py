"""Speed of the core: cold start (load files + train) and text → answer latency, per tokenizer.

Replays every turn of the held-out test file (after a warm-up pass) through `Bot.reply`
and prints p50 / p99 / max per engine. Targets: p99 ≤ 5 ms, cold start ≤ 3 s.

    python bench/speed.py [--engines nlpo3 newmm] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COLD_START = """
import time; started = time.perf_counter()
from bot.config import Settings
from bot.service import load_bot
bot = load_bot(Settings(tokenizer_engine={engine!r}))
bot.reply("ดีป้าคืออะไร")
print(time.perf_counter() - started)
"""


def cold_start(engine: str) -> float:
    """A fresh process, as a server start would be: imports, YAML, training, first answer."""
    output = subprocess.run(
        [sys.executable, "-c", COLD_START.format(engine=engine)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return float(output.stdout.strip().splitlines()[-1])


def latencies(engine: str, rounds: int) -> list[float]:
    from ruamel.yaml import YAML

    from bot.config import Settings
    from bot.evaluate import parse_cases
    from bot.service import load_bot

    bot = load_bot(Settings(tokenizer_engine=engine))
    data = YAML(typ="safe").load((REPO / "tests" / "data" / "heldout.yaml").read_text("utf-8"))
    turns = [[t.text for t in case.turns] for case in parse_cases(data)]
    timings = []
    for round_number in range(rounds + 1):  # round 0 is the warm-up
        for conversation in turns:
            context = None
            for text in conversation:
                started = time.perf_counter()
                reply = bot.reply(text, context, now=1.0)
                elapsed = time.perf_counter() - started
                context = reply.context
                if round_number:
                    timings.append(elapsed * 1000)
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["nlpo3", "newmm"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print("| engine | cold start (s), median of 3 | p50 (ms) | p99 (ms) | max (ms) | replies |")
    print("|---|---|---|---|---|---|")
    for engine in args.engines:
        cold = statistics.median(cold_start(engine) for _ in range(3))
        timings = latencies(engine, args.rounds)
        print(
            f"| {engine} | {cold:.2f} | {percentile(timings, 0.5):.2f} "
            f"| {percentile(timings, 0.99):.2f} | {max(timings):.2f} | {len(timings)} |"
        )


if __name__ == "__main__":
    main()
