"""The app factory: one place builds the engine, the Slack client, bolt, the handlers and the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware.authorization.async_single_team_authorization import AsyncSingleTeamAuthorization
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot import __version__
from bot.config import OperatorError, Settings
from bot.services import events
from bot.services.announcer import Announcer
from bot.services.disaster import CheckinRefresher
from bot.services.membership import Placement
from bot.slack import identity, leases, middleware
from bot.slack.client import build_client, open_session, without_retries
from bot.slack.context import Deps
from bot.slack.identity import Backoff, SlackAuthError, SlackUnreachableError
from bot.slack.inbox import WORKER, Inbox
from bot.slack.metrics import Metrics
from bot.slack.outbox import Outbox
from bot.slack.refresher import PacedRefresher
from bot.texts import Texts
from schedules.scheduler import Scheduler
from storage import community, migrate
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger(__name__)


class _SameTokenNotice(logging.Filter):
    """Drops bolt's "As you gave `client` as well, `token` will be unused." when it is not true.

    bolt reads SLACK_BOT_TOKEN from the environment by itself and warns, at every start, that the client we
    hand it wins; our client carries that very token, so nothing is unused.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


@contextlib.contextmanager
def _bolt_construction(client: AsyncWebClient) -> Iterator[None]:
    logger = logging.getLogger("slack_bolt.AsyncApp")
    notice = _SameTokenNotice()
    quiet = os.environ.get("SLACK_BOT_TOKEN") in (None, client.token)
    if quiet:
        logger.addFilter(notice)
    try:
        yield
    finally:
        logger.removeFilter(notice)


def _report_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("waiting for Slack failed", exc_info=task.exception())


@dataclass
class Yakuba:
    settings: Settings
    deps: Deps
    bolt: AsyncApp
    scheduler: Scheduler
    # How long to wait between auth.test attempts while Slack is away (tests make it short).
    identity_backoff: Backoff = field(default_factory=Backoff)
    # Called once if Slack refuses the token after start-up (serve/socket stop the process with one line).
    on_fatal: Callable[[OperatorError], None] | None = None
    fatal: OperatorError | None = field(default=None, init=False)
    identified: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _identity: asyncio.Task | None = field(default=None, init=False, repr=False)

    async def start(self, *, upgrade: bool = True, schedule: bool = True, mode: str | None = None) -> None:
        """Migrate, learn who we are in Slack, then start what needs it (scheduler, inbox worker, outbox).

        `mode` ("serve", "socket") marks a long-running process: if Slack cannot be reached it starts anyway,
        stores what Slack sends meanwhile, and asks again in the background (bot/identity.py). One-shot
        commands need Slack now and fail with one line. A refused token fails at once in both.
        """
        # One pooled HTTP session for every Slack call (slack_sdk otherwise opens a connection per call);
        # bolt's per-request clients copy it from this client.
        if self.deps.client.session is None:
            self.deps.client.session = open_session(self.deps.client)
            if self.bolt.client is not self.deps.client and self.bolt.client.session is None:
                self.bolt.client.session = self.deps.client.session
        if upgrade:
            await migrate.upgrade(self.deps.db)
        if self.deps.team_id:
            await self._ready(None, schedule=schedule, mode=mode)
            return
        # Long-running: one attempt now, then the back-off's own pace (no stacked quick retries under it).
        client = without_retries(self.deps.client) if mode else self.deps.client
        try:
            auth = await client.auth_test()
        except Exception as exc:
            if (error := identity.refusal(exc)) is not None:
                raise SlackAuthError(error) from None
            if not identity.transient(exc):
                raise
            if not mode:
                raise SlackUnreachableError(identity.why(exc)) from None
            log.warning("Slack is unreachable at start (%s): storing requests and asking again", identity.why(exc))
            self.deps.metrics.slack_reachable.set(0)
            self.deps.inbox.hold()
            self._identity = asyncio.get_running_loop().create_task(
                self._wait_for_slack(client, schedule=schedule, mode=mode), name="slack.identity"
            )
            self._identity.add_done_callback(_report_failure)
            return
        await self._ready(auth, schedule=schedule, mode=mode)

    async def _wait_for_slack(self, client: AsyncWebClient, *, schedule: bool, mode: str | None) -> None:
        try:
            auth = await identity.keep_trying(client.auth_test, self.identity_backoff)
        except SlackAuthError as exc:
            log.error("Slack refused the bot token (%s): stopping", exc.params.get("error"))
            self.fatal = exc
            if self.on_fatal is not None:
                self.on_fatal(exc)
            return
        log.info("Slack answers again: working off what arrived meanwhile")
        await self._ready(auth, schedule=schedule, mode=mode)

    async def _ready(self, auth: Any, *, schedule: bool, mode: str | None) -> None:
        """Our team is known: hand it to bolt, give stored requests their team, start what needs it."""
        if auth is not None:
            self.remember(auth)
        await self.deps.inbox.adopt()
        if mode:
            # A restart after a crash: what our dead predecessor on this host held is ours now, sent at once
            # rather than after its leases run out or at the minute's maintenance tick.
            await leases.take_over(self.deps.db, team_id=self.deps.team_id)
            self.deps.announcer.kick()
        if schedule:
            await self.scheduler.start()
        self.deps.inbox.start()
        self.deps.outbox.kick()
        self.deps.metrics.slack_reachable.set(1)
        self.identified.set()
        if mode:
            log.info(
                "yakuba %s started: mode=%s database=%s team=%s lang=%s tz=%s",
                __version__,
                mode,
                self.deps.db.dialect,
                self.deps.team_id,
                self.settings.yakuba_lang,
                self.settings.yakuba_tz,
            )

    async def identify(self) -> None:
        """Learn our team and bot user once (jobs and the outbox need them outside any request)."""
        if not self.deps.team_id:
            self.remember(await self.deps.client.auth_test())

    def remember(self, auth: Any) -> None:
        self.deps.team_id = auth["team_id"]
        self.deps.bot_user_id = auth.get("user_id", "")
        # bolt's single-team authorisation caches its own auth.test on the first request; a burst at start-up
        # would otherwise call auth.test once per concurrent request. Hand it the answer we already have.
        for bolt in (self.bolt, self.deps.inbox.bolt):
            for layer in bolt._async_middleware_list:
                if isinstance(layer, AsyncSingleTeamAuthorization) and layer.auth_test_result is None:
                    layer.auth_test_result = auth

    @property
    def slack_state(self) -> str:
        """`ok` once our team is known, `unreachable` while auth.test waits for Slack."""
        return "ok" if self.deps.team_id else "unreachable"

    async def close(self) -> None:
        if self._identity is not None and not self._identity.done():
            self._identity.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._identity
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
    ticks: Callable[[], float] = time.monotonic,
    team_id: str = "",
    process_before_response: bool = False,
) -> Yakuba:
    """Production, the console, the demo and the tests all come through here."""
    metrics = Metrics()
    client = build_client(settings, observer=metrics.observer)
    deps = Deps(
        settings=settings,
        db=Database(settings.database_url),
        client=client,
        texts=Texts(settings.yakuba_lang),
        clock=clock,
        ticks=ticks,
        team_id=team_id,
        commands=handlers.COMMANDS,
        metrics=metrics,
        community=community.in_force(settings.yakuba_community),
    )
    deps.outbox = Outbox(deps, steps={"invite": Placement(deps)})
    deps.announcer = Announcer(deps)
    deps.checkins = CheckinRefresher(deps)
    deps.event_posts = PacedRefresher(deps, events.refresh, name="events.refresh")
    deps.event_gate = events.SignupGate(single_writer=deps.db.is_sqlite)
    # Offline commands (db, jobs list, imports) build the app without a token; bolt insists on one, so it
    # gets an inert placeholder. serve/socket refuse to start without the real token before this point.
    bolt_client = client if settings.slack_bot_token else AsyncWebClient(token="xoxb-offline", base_url=client.base_url)
    with _bolt_construction(bolt_client):
        bolt, worker = _bolt_apps(deps, bolt_client, process_before_response)
    middleware.install(bolt, deps)
    handlers.register_all(bolt)
    middleware.install(worker, deps, stage=WORKER)
    handlers.register_all(worker)
    deps.inbox = Inbox(deps, worker)
    return Yakuba(settings=settings, deps=deps, bolt=bolt, scheduler=Scheduler(deps))


def _bolt_apps(deps: Deps, bolt_client: AsyncWebClient, process_before_response: bool) -> tuple[AsyncApp, AsyncApp]:
    settings = deps.settings
    bolt = AsyncApp(
        client=bolt_client,
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=process_before_response,
        raise_error_for_unhandled_request=False,
        before_authorize=middleware.front_door(deps),
    )
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
    return bolt, worker
