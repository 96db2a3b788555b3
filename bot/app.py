"""The app factory: one place builds the engine, the Slack client, bolt, the handlers and the scheduler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.authorization.async_single_team_authorization import AsyncSingleTeamAuthorization
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.config import Settings
from bot.services.announcer import Announcer
from bot.slack import middleware
from bot.slack.client import build_client
from bot.slack.context import Deps
from bot.slack.inbox import WORKER, Inbox
from bot.slack.outbox import Outbox
from bot.texts import Texts
from schedules.scheduler import Scheduler
from storage import migrate
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger(__name__)


@dataclass
class Yakuba:
    settings: Settings
    deps: Deps
    bolt: AsyncApp
    scheduler: Scheduler

    async def start(self, *, upgrade: bool = True, schedule: bool = True) -> None:
        # One pooled HTTP session for every Slack call (slack_sdk otherwise opens a connection per call);
        # bolt's per-request clients copy it from this client.
        if self.deps.client.session is None:
            self.deps.client.session = aiohttp.ClientSession()
            if self.bolt.client is not self.deps.client and self.bolt.client.session is None:
                self.bolt.client.session = self.deps.client.session
        if upgrade:
            await migrate.upgrade(self.deps.db)
        await self.identify()
        if schedule:
            await self.scheduler.start()
        self.deps.inbox.start()
        self.deps.outbox.kick()

    async def identify(self) -> None:
        """Learn our team and bot user once (jobs and the outbox need them outside any request)."""
        if self.deps.team_id:
            return
        auth = await self.deps.client.auth_test()
        self.deps.team_id = auth["team_id"]
        self.deps.bot_user_id = auth.get("user_id", "")
        # bolt's single-team authorisation caches its own auth.test on the first request; a burst at start-up
        # would otherwise call auth.test once per concurrent request. Hand it the answer we already have.
        for bolt in (self.bolt, self.deps.inbox.bolt):
            for layer in bolt._async_middleware_list:
                if isinstance(layer, AsyncSingleTeamAuthorization) and layer.auth_test_result is None:
                    layer.auth_test_result = auth

    async def close(self) -> None:
        await self.deps.inbox.stop()
        await self.scheduler.shutdown()
        await self.deps.drain(timeout=10)
        await self.deps.db.dispose()
        session = getattr(self.deps.client, "session", None)
        if session is not None and not session.closed:
            await session.close()


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    team_id: str = "",
    process_before_response: bool = False,
) -> Yakuba:
    """Production, the console, the demo and the tests all come through here."""
    client = build_client(settings)
    deps = Deps(
        settings=settings,
        db=Database(settings.database_url),
        client=client,
        texts=Texts(settings.yakuba_lang),
        clock=clock,
        team_id=team_id,
        commands=handlers.COMMANDS,
    )
    deps.outbox = Outbox(deps)
    deps.announcer = Announcer(deps)
    # Offline commands (db, jobs list, imports) build the app without a token; bolt insists on one, so it
    # gets an inert placeholder. serve/socket refuse to start without the real token before this point.
    bolt_client = client if settings.slack_bot_token else AsyncWebClient(token="xoxb-offline", base_url=client.base_url)
    bolt = AsyncApp(
        client=bolt_client,
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=process_before_response,
        raise_error_for_unhandled_request=False,
    )
    middleware.install(bolt, deps)
    handlers.register_all(bolt)
    # The inbox's worker runs what the front stored through the same handlers; the front verified the
    # signature already, and this app returns only when a listener's work is done.
    worker = AsyncApp(
        client=bolt_client,
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        request_verification_enabled=False,
        ssl_check_enabled=False,
        url_verification_enabled=False,
    )
    middleware.install(worker, deps, stage=WORKER)
    handlers.register_all(worker)
    deps.inbox = Inbox(deps, worker)
    return Yakuba(settings=settings, deps=deps, bolt=bolt, scheduler=Scheduler(deps))
