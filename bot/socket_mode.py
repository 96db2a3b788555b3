"""Socket Mode: the same app over a WebSocket Slack opens for us, for members who cannot expose a URL.

Slack unreachable at start is waited out as in HTTP mode: identity and the connection are each asked
again with the same capped back-off; only a refused token (bot or app) stops the process.
"""

from __future__ import annotations

import asyncio
import logging
from time import time

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.response import BoltResponse
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.app import create_app
from bot.config import OperatorError, Settings
from bot.slack import envelope, identity
from bot.slack.identity import SlackAuthError
from bot.slack.metrics import Metrics, request_kind

log = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    settings.require("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    yakuba = create_app(settings)
    fatal: asyncio.Future[OperatorError] = asyncio.get_running_loop().create_future()

    def stop(error: OperatorError) -> None:
        if not fatal.done():
            fatal.set_result(error)

    yakuba.on_fatal = stop
    handler: AsyncSocketModeHandler | None = None
    connecting: asyncio.Task | None = None
    try:
        await yakuba.start(mode="socket")
        handler = MeasuredHandler(yakuba.bolt, settings.slack_app_token, web_client=yakuba.deps.client)
        handler.metrics = yakuba.deps.metrics
        connecting = asyncio.create_task(_connect(handler, yakuba.identity_backoff, stop), name="socket.connect")
        raise await fatal
    finally:
        if connecting is not None:
            connecting.cancel()
        if handler is not None:
            await handler.close_async()
        await yakuba.close()


class MeasuredHandler(AsyncSocketModeHandler):
    """bolt's Socket Mode handler, timing each envelope until its ack is sent (as HTTP mode's dispatch does)."""

    metrics: Metrics | None = None

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        start = time()
        if (wrong := envelope.problem(req.payload)) is not None:
            # A shape bolt cannot read: acknowledged (so Slack does not resend it) and ignored, as over HTTP.
            log.warning("a Socket Mode envelope with a malformed %s ignored", wrong)
            response = BoltResponse(status=200, body="")
        else:
            response = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, response, start)
        if self.metrics is not None:
            self.metrics.answered(request_kind(req.payload), response.status, time() - start)


async def _connect(handler: AsyncSocketModeHandler, backoff: identity.Backoff, stop) -> None:
    try:
        await identity.keep_trying(handler.connect_async, backoff, variable="SLACK_APP_TOKEN")
    except SlackAuthError as error:
        log.error("Slack refused the app token (%s): stopping", error.params.get("error"))
        stop(error)
        return
    log.info("Socket Mode connected")
