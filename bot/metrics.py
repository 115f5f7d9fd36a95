"""Prometheus metrics of one server process, served at `GET /metrics`.

Each process has its own registry (a test can build many apps), and counts only what it
handled; Prometheus sums the replicas. The dashboard's per-day figures come from the
database instead, which every replica writes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.domain import Reply

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "smartcity_messages", "Questions answered by this process, by reply status.",
            ["status"], registry=self.registry,
        )  # fmt: skip
        self.answered_ratio = Gauge(
            "smartcity_answered_ratio",
            "Share of questions answered (answered or low_confidence) since this process started.",
            registry=self.registry,
        )
        self.latency = Histogram(
            "smartcity_reply_seconds",
            "From the webhook's arrival to LINE accepting the reply (or the web chat's answer).",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
            registry=self.registry,
        )
        self.line_errors = Counter(
            "smartcity_line_api_errors", "Replies LINE's API did not accept, by HTTP status "
            "(0: no answer).", ["status"], registry=self.registry,
        )  # fmt: skip
        self.reloads = Counter(
            "smartcity_reloads", "Knowledge reloads, by result.", ["result"],
            registry=self.registry,
        )  # fmt: skip
        self.answered = self.total = 0

    def question(self, reply: Reply) -> None:
        self.messages.labels(reply.status.value).inc()
        self.total += 1
        self.answered += reply.answered
        self.answered_ratio.set(self.answered / self.total)

    def render(self) -> bytes:
        return generate_latest(self.registry)
