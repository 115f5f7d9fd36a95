"""The baseline for bench/webhook_load.py: an echo bot on the same stack as the real bot.

FastAPI + line-bot-sdk, replying to each text message with its text. `--direct` keeps the
SDK's `WebhookParser` and message models but posts the reply with the SDK client's own
aiohttp session instead of `AsyncMessagingApi.reply_message` (what bot/line.py does), to
show what that SDK call costs.

    python bench/echo_bot.py --port 8001 [--direct]   (LINE_* settings from the environment)
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    ReplyMessageRequest,
    TextMessage,
)
from linebot.v3.webhooks import MessageEvent, TextMessageContent

TIMEOUT_SECONDS = 5


def create_echo_app(*, secret: str, token: str, base_url: str, direct: bool) -> FastAPI:
    parser = WebhookParser(secret)
    tasks: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = AsyncApiClient(Configuration(host=base_url, access_token=token))
        app.state.api = AsyncMessagingApi(client)
        app.state.session = client.rest_client.pool_manager
        yield
        await client.close()

    app = FastAPI(lifespan=lifespan)

    async def reply(request: ReplyMessageRequest) -> None:
        if direct:
            async with app.state.session.post(
                f"{base_url}/v2/bot/message/reply",
                data=request.to_json(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=TIMEOUT_SECONDS,
            ) as response:
                await response.read()
        else:
            await app.state.api.reply_message(request, _request_timeout=TIMEOUT_SECONDS)

    @app.post("/callback")
    async def callback(request: Request) -> PlainTextResponse:
        body = (await request.body()).decode()
        try:
            events = parser.parse(body, request.headers.get("x-line-signature", ""))
        except InvalidSignatureError:
            return PlainTextResponse("bad signature", status_code=400)
        for event in events:
            if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                message = TextMessage(text=event.message.text)
                request_body = ReplyMessageRequest(
                    reply_token=event.reply_token, messages=[message]
                )
                task = asyncio.create_task(reply(request_body))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        return PlainTextResponse("OK")

    return app


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--port", type=int, default=8001)
    options.add_argument("--direct", action="store_true")
    args = options.parse_args()
    app = create_echo_app(
        secret=os.environ["LINE_CHANNEL_SECRET"],
        token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"],
        base_url=os.environ["LINE_API_BASE_URL"],
        direct=args.direct,
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
