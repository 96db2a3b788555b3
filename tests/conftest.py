"""Shared fixtures: a fake Slack on localhost, settings pointing at it, and the real app over signed HTTP."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import Yakuba, create_app
from bot.config import Settings
from bot.local import requests as req
from bot.local.slack import SlackError
from bot.local.slack.blockkit import check_message, check_view
from bot.server import init_web
from tests.clock import DEFAULT_START, TestClock
from tests.fake_slack import FakeSlack, started_fake_slack

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@pytest.fixture
async def slack() -> FakeSlack:
    fake = await started_fake_slack(tokens=[TOKEN])
    yield fake
    await fake.stop()


_MIGRATED: list[str] = []


async def _clean_postgres(admin: str) -> str:
    """One database per session, migrated once; each test starts from empty tables (TRUNCATE is fast)."""
    import asyncpg

    from storage import migrate
    from storage.db import Database

    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    name = f"yakuba_test_{os.getpid()}"
    url = f"{base}/{name}"
    if not _MIGRATED:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        finally:
            await conn.close()
        db = Database(url)
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()
        _MIGRATED.append(url)
    conn = await asyncpg.connect(admin.rsplit("/", 1)[0] + f"/{name}")
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
            )
        ]
        # DELETE beats TRUNCATE on tables this small; replica role skips FK checks so order does not matter.
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                await conn.execute(f"DELETE FROM {repr_ident(table)}")
    finally:
        await conn.close()
    return url


_SQLITE_TEMPLATE: list[Path] = []


async def _migrated_sqlite(target: Path) -> str:
    """A fresh SQLite file for one test, copied from one migrated per worker process.

    Migrating an empty file costs about 0.5 s of CPU, paid by hundreds of tests on two cores; a copy costs
    milliseconds and gives the same schema (PostgreSQL runs likewise share one migrated database per worker).
    """
    if not _SQLITE_TEMPLATE:
        from storage import migrate
        from storage.db import Database

        folder = Path(tempfile.mkdtemp(prefix="yakuba-schema-"))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "migrated.db"
        db = Database(f"sqlite+aiosqlite:///{template}")
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()
        assert not template.with_name(template.name + "-wal").exists(), "the template must be checkpointed"
        _SQLITE_TEMPLATE.append(template)
    shutil.copyfile(_SQLITE_TEMPLATE[0], target)
    return f"sqlite+aiosqlite:///{target}"


def repr_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
async def db_url(tmp_path) -> str:
    """A clean database per test: a fresh SQLite file, or (YAKUBA_TEST_POSTGRES set) emptied PostgreSQL tables.

    .ci/run starts PostgreSQL on loopback and sets YAKUBA_TEST_POSTGRES to an admin DSN such as
    postgresql://postgres@127.0.0.1:54329/postgres, then runs the same suite a second time.
    """
    admin = os.environ.get("YAKUBA_TEST_POSTGRES")
    if not admin:
        return await _migrated_sqlite(tmp_path / "yakuba.db")
    return await _clean_postgres(admin)


@dataclass
class People:
    organizer: str
    member: str
    admin_channel: str
    broadcast_channel: str


@pytest.fixture
def people(slack: FakeSlack) -> People:
    organizer = slack.add_user("unei", "運営 花子")["id"]
    member = slack.add_user("tanaka", "田中 一郎")["id"]
    admin = slack.add_channel("yakuba-admin", members=[req.BOT_USER_ID, organizer])["id"]
    broadcast = slack.add_channel("chonai-hoso", members=[req.BOT_USER_ID])["id"]
    return People(organizer, member, admin, broadcast)


@pytest.fixture
def settings(slack: FakeSlack, db_url: str, people: People) -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack.base_url,
        database_url=db_url,
        yakuba_organizers=people.organizer,
        yakuba_admin_channel=people.admin_channel,
        yakuba_broadcast_channel=people.broadcast_channel,
        # Never JMA itself: tests that want the disaster watcher point it at tests/fake_jma.py.
        yakuba_jma_feed_url="",
    )


def check_ack(raw: bytes) -> None:
    """An ack's message or view must be one Slack would show: the emulator's validator, applied to the reply."""
    try:
        body = json.loads(raw) if raw[:1] == b"{" else None
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    try:
        if body.get("response_action") in ("update", "push"):
            check_view(body.get("view"))
        elif "blocks" in body:
            check_message(body)
    except SlackError as exc:
        raise AssertionError(f"Slack would refuse this ack: {exc.code} {exc.extra}") from exc


@dataclass
class SignedSlack:
    """Talks to `yakuba serve`'s aiohttp app exactly as Slack does: signed bodies over real HTTP."""

    http: TestClient
    yakuba: Yakuba
    slack: FakeSlack
    clock: Callable[[], datetime]

    async def post(
        self, body: bytes, *, headers: dict[str, str] | None = None, secret: str = SECRET, timestamp: int | None = None
    ):
        signed = req.sign(body, secret, timestamp)
        response = await self.http.post("/slack/events", data=body, headers={**signed, **(headers or {})})
        check_ack(await response.read())
        return response

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw):
        return await self.post(req.event_body(event, event_id=event_id), **kw)

    async def command(self, user_id: str, command: str, text: str = "", *, channel_id: str = "C0GENERAL"):
        url = self.slack.new_response_url(channel=channel_id, user=user_id)
        body = req.command_body(command, text, user_id=user_id, channel_id=channel_id, response_url=url)
        return await self.post(body)

    async def action(
        self,
        user_id: str,
        action_id: str,
        value: str = "",
        *,
        channel_id: str | None = None,
        message: dict | None = None,
        view: dict | None = None,
        **kw,
    ):
        """A button click in a message (channel_id/message) or a view; replies reach slack.ephemerals()."""
        url = self.slack.new_response_url(channel=channel_id, user=user_id, message_ts=(message or {}).get("ts"))
        body = req.block_actions_body(
            user_id=user_id,
            action_id=action_id,
            value=value,
            channel_id=channel_id,
            message=message,
            view=view,
            response_url=url,
            **kw,
        )
        return await self.post(body)

    async def submit(self, user_id: str, view: dict, values: dict, **kw):
        """Submit a modal as opened (views_for/open_views) with Slack-shaped values (req.state_values)."""
        return await self.post(req.view_submission_body(user_id=user_id, view=view, values=values, **kw))

    async def suggest(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        view: dict | None = None,
        values: dict | None = None,
        block_id: str | None = None,
    ):
        """An external_select options request; `values` is the form's state at the time of typing."""
        if view is not None and values is not None:
            view = {**view, "state": {"values": values}}
        return await self.post(
            req.block_suggestion_body(user_id=user_id, action_id=action_id, value=value, view=view, block_id=block_id)
        )

    async def settle(self) -> None:
        """Wait for the work listeners do after the ack (never a blind sleep)."""
        await self.yakuba.deps.drain()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "start(moment): the ISO moment the test's clock starts at (TestClock)")


def start_moment(request: pytest.FixtureRequest) -> datetime:
    """The test's `@pytest.mark.start("2026-11-19T10:00+09:00")`, else DEFAULT_START — never the machine's date."""
    marker = request.node.get_closest_marker("start")
    return datetime.fromisoformat(marker.args[0]) if marker else DEFAULT_START


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> TestClock:
    return TestClock(start_moment(request))


def quiet_ticker(yakuba: Yakuba) -> Yakuba:
    """Tests tick the scheduler themselves: the wall-clock ticker would race their ticks at a minute's turn."""
    yakuba.scheduler.ticker = False
    return yakuba


@pytest.fixture
async def signed(aiohttp_client, settings: Settings, slack: FakeSlack, clock: TestClock) -> SignedSlack:
    yakuba = quiet_ticker(create_app(settings, clock=clock, ticks=clock.ticks))
    http = await aiohttp_client(init_web(yakuba))
    return SignedSlack(http=http, yakuba=yakuba, slack=slack, clock=clock)
