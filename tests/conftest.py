"""Shared fixtures: a fake Slack on localhost, settings pointing at it, and the real app over signed HTTP."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot import local_requests as req
from bot.app import Yakuba, create_app
from bot.config import Settings
from bot.server import init_web
from tests.fake_slack import FakeSlack, started_fake_slack

SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@pytest.fixture
async def slack() -> FakeSlack:
    fake = await started_fake_slack(tokens=[TOKEN])
    yield fake
    await fake.stop()


@pytest.fixture
def db_url(tmp_path) -> str:
    # PostgreSQL runs of the suite set this (see .ci/run); the default is a fresh SQLite file per test.
    return os.environ.get("YAKUBA_TEST_DATABASE_URL") or f"sqlite+aiosqlite:///{tmp_path}/yakuba.db"


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
    )


@dataclass
class SignedSlack:
    """Talks to `yakuba serve`'s aiohttp app exactly as Slack does: signed bodies over real HTTP."""

    http: TestClient
    yakuba: Yakuba
    slack: FakeSlack

    async def post(
        self, body: bytes, *, headers: dict[str, str] | None = None, secret: str = SECRET, timestamp: int | None = None
    ):
        signed = req.sign(body, secret, timestamp)
        return await self.http.post("/slack/events", data=body, headers={**signed, **(headers or {})})

    async def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw):
        return await self.post(req.event_body(event, event_id=event_id), **kw)

    async def command(self, user_id: str, command: str, text: str = "", *, channel_id: str = "C0GENERAL"):
        url = self.slack.new_response_url(channel=channel_id, user=user_id)
        body = req.command_body(command, text, user_id=user_id, channel_id=channel_id, response_url=url)
        return await self.post(body)

    async def settle(self) -> None:
        """Wait for the work listeners do after the ack (never a blind sleep)."""
        await self.yakuba.deps.drain()


@pytest.fixture
async def signed(aiohttp_client, settings: Settings, slack: FakeSlack) -> SignedSlack:
    yakuba = create_app(settings)
    http = await aiohttp_client(init_web(yakuba))
    return SignedSlack(http=http, yakuba=yakuba, slack=slack)
