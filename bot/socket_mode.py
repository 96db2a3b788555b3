"""Socket Mode: the same app over a WebSocket Slack opens for us, for members who cannot expose a URL."""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.app import create_app
from bot.config import Settings


async def run(settings: Settings) -> None:
    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    yakuba = create_app(settings)
    await yakuba.start()
    handler = AsyncSocketModeHandler(yakuba.bolt, settings.slack_app_token, web_client=yakuba.deps.client)
    try:
        await handler.connect_async()
        await asyncio.Event().wait()
    finally:
        await handler.close_async()
        await yakuba.close()
