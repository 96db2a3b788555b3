"""Every Slack call has a deadline, and one slow call never holds the others (tracker #20, point 2).

Over signed HTTP: Slack holds one welcome DM's chat.postMessage for 20 s. With YAKUBA_SLACK_TIMEOUT at 2 s
the call is abandoned after two seconds, and DMs queued while it hangs are delivered meanwhile; once the slow
post has landed the retry finds it in the DM's history instead of posting it a second time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.local import requests as req
from bot.server import init_web
from bot.slack.outbox import UNCERTAIN
from storage.models import OutboxMessage
from tests.conftest import TOKEN, SignedSlack, quiet_ticker
from tests.fake_slack import client_for

TIMEOUT = 2.0  # small, so the test is quick; large enough that a loaded machine still delivers inside it
HELD = 20.0


@pytest.fixture
async def bot(aiohttp_client, settings, slack, clock) -> SignedSlack:
    yakuba = quiet_ticker(create_app(settings.model_copy(update={"yakuba_slack_timeout": TIMEOUT}), clock=clock))
    return SignedSlack(http=await aiohttp_client(init_web(yakuba)), yakuba=yakuba, slack=slack, clock=clock)


async def welcome_row(bot: SignedSlack, user: str) -> OutboxMessage | None:
    async with bot.yakuba.deps.db.read() as session:
        return await session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"welcome:{user}"))


async def until(check, seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_20_second_post_is_abandoned_at_the_deadline_and_holds_no_other_dm(bot, slack):
    slow, *others = [slack.add_user(name)["id"] for name in ("slow", "next1", "next2", "next3")]
    slow_dm = (await client_for(slack, token=TOKEN).conversations_open(users=slow))["channel"]["id"]
    held = slack.delay("chat.postMessage", HELD, where={"channel": slow_dm})

    assert (await bot.event(req.team_join_event(slack.user(slow)), event_id="EvSLOW")).status == 200
    await asyncio.wait_for(held.arrived.wait(), 10)
    queued = time.time()
    for i, user in enumerate(others):
        assert (await bot.event(req.team_join_event(slack.user(user)), event_id=f"EvNEXT{i}")).status == 200
    calls = await slack.wait_for("chat.postMessage", count=len(others), where=lambda c: c.at >= queued, timeout=10)

    # Delivered while the slow post still hung, before its deadline (so within the deadline of being queued).
    assert not held.released.is_set()
    assert [len(slack.dm_messages(user)) for user in others] == [1, 1, 1]
    assert max(call.at for call in calls) < held.arrived_at + TIMEOUT

    # The slow call was given up at its deadline (not after Slack's 20 s, nor aiohttp's 300 s): the row waits
    # for a retry that will look for the post first.
    async def abandoned() -> bool:
        row = await welcome_row(bot, slow)
        return row is not None and row.status == "pending"

    await until(abandoned, 10)
    gave_up = time.time() - held.arrived_at
    assert TIMEOUT * 0.9 <= gave_up < HELD / 2, gave_up
    row = await welcome_row(bot, slow)
    assert row.last_error == UNCERTAIN + "TimeoutError"

    # Slack finishes the held post after all; the retry finds it instead of posting again.
    held.release()
    await slack.wait_for("chat.postMessage", count=1, where={"channel": slow_dm}, timeout=5)
    bot.clock.advance(timedelta(hours=1))
    await bot.yakuba.deps.outbox.flush()
    await bot.settle()
    [landed] = slack.dm_messages(slow)
    row = await welcome_row(bot, slow)
    assert (row.status, row.ts) == ("sent", landed["ts"])
    assert len(slack.calls_to("chat.postMessage", where={"channel": slow_dm})) == 1
    assert [len(slack.dm_messages(user)) for user in others] == [1, 1, 1]
