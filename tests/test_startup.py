"""Slack unreachable at start-up: `yakuba serve` starts anyway, stores what arrives, catches up once Slack answers."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.local import requests as req
from bot.server import init_web
from bot.slack.identity import Backoff, SlackAuthError, SlackUnreachableError
from bot.texts import Texts
from storage.models import InboxItem, OutboxMessage
from tests.clock import TestClock
from tests.conftest import SignedSlack

# Fast, but the same shape as production's 1 s doubling to 60 s.
QUICK = Backoff(initial=0.01, maximum=0.04, jitter=0.01)


async def rows(yakuba, model, **where) -> int:
    async with yakuba.deps.db.read() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(await session.scalar(query) or 0)


@pytest.mark.parametrize("away", ["drop", "fail"])
async def test_unreachable_slack_at_start_then_answering(aiohttp_client, settings, slack, people, clock, away):
    # Slack refuses connections (drop) or answers 503, until told otherwise.
    fault = slack.drop("auth.test", times=None) if away == "drop" else slack.fail("auth.test", status=503, times=None)
    yakuba = create_app(settings, clock=clock)
    yakuba.identity_backoff = QUICK
    bot = SignedSlack(http=await aiohttp_client(init_web(yakuba)), yakuba=yakuba, slack=slack, clock=clock)

    health = await bot.http.get("/healthz")
    assert health.status == 503
    assert (await health.json())["slack"] == "unreachable"

    # A member joins meanwhile: acked at once, stored, not worked on (nothing may run without our team).
    joined = await bot.event(req.team_join_event(slack.user(people.member)))
    assert joined.status == 200
    assert await rows(yakuba, InboxItem) == 1
    assert await rows(yakuba, OutboxMessage) == 0
    # The back-off keeps asking; nothing else reaches Slack while it is away.
    await slack.wait_for("auth.test", count=3)
    assert slack.calls_to("conversations.open") == [] and slack.calls_to("chat.postMessage") == []

    slack.lift(fault)
    await asyncio.wait_for(yakuba.identified.wait(), timeout=10)
    await bot.settle()

    texts, community = yakuba.deps.texts, settings.yakuba_community_name
    welcome = slack.dm_messages(people.member)
    assert [m["text"] for m in welcome] == [texts("onboarding.welcome.fallback", community=community)]
    assert await rows(yakuba, InboxItem) == 0
    assert await rows(yakuba, OutboxMessage, status="sent", team_id="T0LOCAL") == 1
    assert await rows(yakuba, OutboxMessage, team_id="") == 0
    health = await bot.http.get("/healthz")
    assert health.status == 200
    assert (await health.json())["slack"] == "ok"

    # The same event re-sent by Slack after the catch-up is not welcomed twice.
    again = await bot.event(req.team_join_event(slack.user(people.member)))
    assert again.status == 200
    await bot.settle()
    assert len(slack.dm_messages(people.member)) == 1


async def test_a_refused_token_at_start_is_one_operator_error(settings, slack):
    slack.error("auth.test", "invalid_auth")
    yakuba = create_app(settings, clock=TestClock())
    try:
        with pytest.raises(SlackAuthError) as raised:
            await yakuba.start(mode="serve")
    finally:
        await yakuba.close()
    error = raised.value
    assert error.exit_code == 2 and error.key == "cli.slack.invalid_auth"
    for lang in ("ja", "en"):
        line = Texts(lang)(error.key, **error.params)
        assert "SLACK_BOT_TOKEN" in line and "invalid_auth" in line and "\n" not in line
    assert slack.calls_to("chat.postMessage") == []


async def test_a_token_revoked_while_waiting_stops_serving(settings, slack):
    slack.fail("auth.test", status=502, times=2)
    slack.error("auth.test", "token_revoked")
    yakuba = create_app(settings, clock=TestClock())
    yakuba.identity_backoff = QUICK
    stopped: asyncio.Future = asyncio.get_running_loop().create_future()
    yakuba.on_fatal = stopped.set_result
    try:
        await yakuba.start(mode="serve")  # Slack is away: start returns, the wait goes on in the background
        error = await asyncio.wait_for(stopped, timeout=10)
    finally:
        await yakuba.close()
    assert isinstance(error, SlackAuthError) and error.exit_code == 2
    assert error.params == {"error": "token_revoked", "variable": "SLACK_BOT_TOKEN"}
    assert yakuba.fatal is error and not yakuba.identified.is_set()
    assert len(slack.calls_to("auth.test")) == 3


async def test_one_shot_commands_fail_with_one_line_when_slack_is_away(settings, slack):
    slack.drop("auth.test", times=None)
    yakuba = create_app(settings, clock=TestClock())
    try:
        with pytest.raises(SlackUnreachableError) as raised:
            await yakuba.start(schedule=False)
    finally:
        await yakuba.close()
    assert raised.value.exit_code == 1 and raised.value.key == "cli.slack.unreachable"
