"""Run the real app on a port and talk to it like LINE does: signed webhook bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

SECRET = "test-channel-secret"
TOKEN = "test-access-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AppServer:
    """The app under uvicorn in a thread; `url` once started."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> AppServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the app did not start (see the log above)")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def idle(self, timeout: float = 10.0) -> None:
        """Wait until every dispatched event has finished (replies sent or given up)."""
        deadline = time.monotonic() + timeout
        while self.app.state.dispatcher.tasks:
            if time.monotonic() > deadline:
                raise TimeoutError("events still in flight")
            time.sleep(0.01)


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def new_id() -> str:
    return uuid.uuid4().hex.upper()[:26]


def event(
    kind: str,
    *,
    user: str = "U" + "1" * 32,
    source: dict[str, Any] | None = None,
    mode: str = "active",
    event_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """One webhook event shaped like LINE's `webhook.yml`; a fresh reply token and id."""
    body: dict[str, Any] = {
        "type": kind,
        "mode": mode,
        "timestamp": int(time.time() * 1000),
        "source": source or {"type": "user", "userId": user},
        "webhookEventId": event_id or new_id(),
        "deliveryContext": {"isRedelivery": False},
    }
    if kind in ("message", "follow", "join", "postback"):
        body["replyToken"] = uuid.uuid4().hex
    body.update(fields)
    return body


def text(message: str, **kwargs: Any) -> dict[str, Any]:
    content = {"type": "text", "id": new_id(), "quoteToken": "q", "text": message}
    if "mention" in kwargs:
        content["mention"] = kwargs.pop("mention")
    return event("message", message=content, **kwargs)


def payload(*events: dict[str, Any]) -> bytes:
    return json.dumps(
        {"destination": "U" + "f" * 32, "events": list(events)}, ensure_ascii=False
    ).encode()


def post(client: httpx.Client, body: bytes, signature: str | None = "sign") -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["x-line-signature"] = signature
    return client.post("/callback", content=body, headers=headers)
