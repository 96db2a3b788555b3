"""HTTP mode: aiohttp serves Slack's requests at POST /slack/events and a health check at GET /healthz."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import AsyncIterator

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot import __version__
from bot.app import Yakuba, create_app
from bot.config import OperatorError, Settings
from bot.services import disaster
from bot.slack import envelope
from bot.slack.metrics import Metrics, request_kind
from storage import inbox, outbox

log = logging.getLogger(__name__)

YAKUBA = web.AppKey("yakuba", Yakuba)
# Slack's payloads are small; a large body is hostile or broken and is refused before parsing.
MAX_BODY = 512 * 1024


async def dispatch(
    bolt: AsyncApp, signing_secret: str, request: web.Request, metrics: Metrics | None = None
) -> web.Response:
    """One Slack request through bolt, as an aiohttp response (benchmarks serve a bare bolt app with it too)."""
    raw = await request.read()
    body = raw.decode("utf-8", errors="replace")
    headers = dict(request.headers)
    try:
        bolt_request = AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
    except (ValueError, TypeError, AttributeError, KeyError):
        # bolt parses before it verifies: answer a forged body 401 and a signed but broken one 400.
        valid = SignatureVerifier(signing_secret).is_valid_request(body, headers)
        return web.json_response({"ok": False, "error": "malformed_body"}, status=400 if valid else 401)
    if (wrong := envelope.problem(bolt_request.body)) is not None:
        # Slack never sends this shape and bolt would answer it 500: refuse it here (forged: 401).
        valid = SignatureVerifier(signing_secret).is_valid_request(body, headers)
        log.warning("a request with a malformed %s refused", wrong)
        return web.json_response({"ok": False, "error": "malformed_body"}, status=400 if valid else 401)
    loop = asyncio.get_running_loop()
    started, status = loop.time(), 500
    try:
        response = await bolt.async_dispatch(bolt_request)
        status = response.status
    except (TypeError, AttributeError, KeyError) as exc:
        # A verified request of a shape bolt cannot read (hand-made or fuzzed): refuse it, plainly.
        log.warning("unreadable Slack request refused: %s", type(exc).__name__)
        status = 400
        return web.json_response({"ok": False, "error": "malformed_body"}, status=400)
    finally:
        if metrics is not None:
            metrics.answered(request_kind(bolt_request.body), status, loop.time() - started)
    headers = {
        k: v[0] if isinstance(v, list) else v for k, v in response.headers.items() if k.lower() != "content-length"
    }
    return web.Response(status=response.status, body=response.body, headers=headers)


async def slack_events(request: web.Request) -> web.Response:
    yakuba = request.app[YAKUBA]
    return await dispatch(yakuba.bolt, yakuba.settings.slack_signing_secret or "", request, yakuba.deps.metrics)


async def healthz(request: web.Request) -> web.Response:
    yakuba = request.app[YAKUBA]
    deps = yakuba.deps
    db_ok = await deps.db.ping()
    slack = yakuba.slack_state
    body = {
        "ok": db_ok and slack == "ok",
        "database": "ok" if db_ok else "unavailable",
        "slack": slack,
        "version": __version__,
    }
    if db_ok and deps.team_id:
        body["outbox_pending"] = await outbox.pending_count(deps.db, team_id=deps.team_id)
        body["inbox_pending"] = await inbox.pending_count(deps.db, team_id=deps.team_id)
        # The JMA watcher (#17): a feed that has not been read for long is a silent failure worth seeing here.
        if (feed := await disaster.health(deps)) is not None:
            body["disaster_feed"] = feed
    return web.json_response(body, status=200 if body["ok"] else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus' text format (bot/metrics.py); queue gauges are read now, from the database."""
    deps = request.app[YAKUBA].deps
    try:
        await deps.metrics.refresh(deps.db, team_id=deps.team_id, now=deps.clock())
    except Exception as exc:  # noqa: BLE001 - the database is away: the other families still say why
        log.warning("metrics: queues not read (%s)", type(exc).__name__)
    body, content_type = deps.metrics.exposition(request.headers.get("Accept"))
    return web.Response(body=body, headers={"Content-Type": content_type})


def init_web(yakuba: Yakuba, *, start: bool = True) -> web.Application:
    """The aiohttp app around a built Yakuba; `start` runs migrations, identity and the scheduler."""
    web_app = web.Application(client_max_size=MAX_BODY)
    web_app[YAKUBA] = yakuba

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        if start:
            await yakuba.start(mode="serve")
        yield
        await yakuba.close()

    web_app.cleanup_ctx.append(lifecycle)
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


def listen(port: int) -> socket.socket:
    """The listening socket on every interface; a port taken or forbidden is one operator line."""
    try:
        if socket.has_dualstack_ipv6():
            try:
                return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
            except OSError as exc:
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise
        return socket.create_server(("", port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise OperatorError("cli.server.port_in_use", port=port) from exc
        if exc.errno == errno.EACCES:
            raise OperatorError("cli.server.port_denied", port=port) from exc
        raise


def serve(settings: Settings) -> None:
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    # Bind before anything starts: run_app would migrate, call Slack and start the scheduler, then fail.
    sock = listen(settings.port)
    yakuba = create_app(settings)
    yakuba.on_fatal = _stop_serving
    web.run_app(init_web(yakuba), sock=sock, access_log=None, print=log.info)
    if yakuba.fatal is not None:  # Slack refused the token after start-up: one line, exit 2 (bot/cli.py)
        raise yakuba.fatal


def _stop_serving(_error: OperatorError) -> None:
    """Ends run_app as SIGTERM would (GracefulExit out of the loop), from the task that met the error."""
    asyncio.get_running_loop().call_soon(_graceful_exit)


def _graceful_exit() -> None:
    raise web.GracefulExit
