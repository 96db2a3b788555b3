"""The one typed object every handler and job receives: settings, database, Slack client, texts, clock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.metrics import Metrics
from bot.slack.slash import HelpMenu, SlashCommand, help_menu
from bot.texts import Texts
from storage.community import CommunityProfile, shipped
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

DEPS_KEY = "deps"


class Backlog(Protocol):
    """What the rest of the app asks of the inbox (bot/slack/inbox.py), which itself holds the Deps."""

    @property
    def running(self) -> bool: ...

    def entering(self) -> None: ...
    def leaving(self) -> None: ...
    def busy(self) -> bool: ...
    async def store(self, kind: str, key: str, request: AsyncBoltRequest) -> None: ...
    async def settled(self, timeout: float) -> bool: ...


class Sender(Protocol):
    """What the rest of the app asks of a background sender: the outbox (bot/slack/outbox.py), the announcer."""

    def kick(self) -> None: ...


class Refresher(Protocol):
    """Keeps posts current (check-in tallies, event seats): `kick(row)` asks for one paced, coalesced update."""

    def kick(self, row: int) -> None: ...


class Gate(Protocol):
    """Clicks that write one row's state in turn (event sign-ups) wait here, not holding a pooled connection."""

    def lock(self, key: int) -> asyncio.Lock: ...


class Outbound(Sender, Protocol):
    async def flush(self) -> int: ...


@dataclass
class Deps:
    settings: Settings
    db: Database
    client: AsyncWebClient
    texts: Texts
    clock: Callable[[], datetime] = utcnow
    # Seconds that only run forward, for pacing (the announcer's window and learned rate); tests pass their clock's.
    ticks: Callable[[], float] = time.monotonic
    team_id: str = ""
    bot_user_id: str = ""
    metrics: Metrics = field(default_factory=Metrics)
    commands: tuple[SlashCommand, ...] = ()  # every slash command, as its handler declares it
    # The community profile in force (YAKUBA_COMMUNITY), loaded once by create_app.
    community: CommunityProfile = field(default_factory=shipped)
    # Built by create_app once the Deps exist (each holds the Deps): a Protocol each, so this module stays a leaf.
    outbox: Outbound = field(init=False)
    inbox: Backlog = field(init=False)
    announcer: Sender = field(init=False)
    checkins: Refresher = field(init=False)
    event_posts: Refresher = field(init=False)  # the events' channel posts (seats left, waitlist)
    event_gate: Gate = field(init=False)
    # users.info answers for bot/slack/permissions.py: {user_id: (monotonic time, organiser?)}
    organizer_cache: dict[str, tuple[float, bool]] = field(default_factory=dict, repr=False)
    _tasks: set[asyncio.Task] = field(default_factory=set, init=False, repr=False)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str = "background") -> asyncio.Task:
        """Run work after the ack; keep a reference so it is neither garbage-collected nor lost silently."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until no work is left: the inbox's, ours, and the listeners bolt runs after its ack.

        The console, the demo, tests and shutdown use this instead of sleeping. bolt keeps no handle on
        the listener tasks it starts after acking, so they are recognised by where their code lives.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            settled = await self.inbox.settled(max(0.0, deadline - loop.time()))
            pending = set(self._tasks) | _bolt_listener_tasks()
            if not pending and settled:
                return
            if pending:
                await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))

    @property
    def community_name(self) -> str:
        """The name members see: the configured one with the built-in profile, else the profile's own."""
        return self.settings.yakuba_community_name if self.community.is_built_in else self.community.name

    @property
    def help_menu(self) -> HelpMenu:
        """Every command for help, less those (and the verbs) of features the profile switches off."""
        return help_menu(self.commands, self.community.features, built_in=self.community.is_built_in)

    def declaration(self, name: str) -> SlashCommand | None:
        return next((c for c in self.commands if c.name == name.removeprefix("/")), None)

    def feature_off(self, command: str, text: str) -> bool:
        """Whether a typed command (`/ka`, `/members map …`) belongs to a feature this community switches off."""
        declared = self.declaration(command)
        return declared is not None and declared.off_for(self.community.features, text)

    def usage_keys(self, name: str) -> tuple[str, str]:
        """(summary, hint) catalogue keys of one command's usage, without the verbs switched off."""
        declared = self.declaration(name) or SlashCommand(name)
        features = self.community.features
        return declared.summary_key(features, built_in=self.community.is_built_in), declared.hint_key(features)

    def is_organizer(self, user_id: str) -> bool:
        """Organisers by configuration; workspace admins/owners are checked by `bot.slack.permissions`."""
        return user_id in self.settings.organizers


def _bolt_listener_tasks() -> set[asyncio.Task]:
    current = asyncio.current_task()
    out = set()
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        if task is not current and not task.done() and code is not None and "slack_bolt" in code.co_filename:
            out.add(task)
    return out


def deps_of(context: AsyncBoltContext | dict) -> Deps:
    return context[DEPS_KEY]
