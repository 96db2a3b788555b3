"""Journey 1, first step: a member joins and gets exactly one warm welcome DM."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import select

from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.local import requests as req
from storage.models import Member, OutboxMessage


def join_event(signed, user_id: str) -> dict:
    return req.team_join_event(signed.slack.user(user_id))


async def welcome_dms(signed, user_id: str) -> list[dict]:
    return signed.slack.dm_messages(user_id)


async def test_join_gets_one_japanese_welcome_dm(signed, people):
    response = await signed.event(join_event(signed, people.member))
    assert response.status == 200
    await signed.settle()
    messages = await welcome_dms(signed, people.member)
    assert len(messages) == 1
    texts = signed.yakuba.deps.texts
    community = signed.yakuba.settings.yakuba_community_name
    assert messages[0]["text"] == texts("onboarding.welcome.fallback", community=community)
    blocks = str(messages[0]["blocks"])
    for step in ("step1", "step2", "step3"):
        assert texts(f"onboarding.welcome.{step}") in blocks
    button = messages[0]["blocks"][3]["elements"][0]
    assert button["action_id"] == OPEN_REGISTRATION and button["style"] == "primary"
    async with signed.yakuba.deps.db.read() as session:
        member = await session.scalar(select(Member).where(Member.user_id == people.member))
    assert member.status == "joined" and member.team_id == "T0LOCAL"


async def test_retried_event_is_processed_once(signed, people):
    body = req.event_body(join_event(signed, people.member), event_id="Ev0RETRY")
    first = await signed.post(body)
    retry = await signed.post(body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert first.status == retry.status == 200
    await signed.settle()
    assert len(await welcome_dms(signed, people.member)) == 1


async def test_concurrent_deliveries_and_new_event_ids_welcome_once(signed, people):
    event = join_event(signed, people.member)
    bodies = [req.event_body(event, event_id="Ev0SAME")] * 3 + [req.event_body(event) for _ in range(3)]
    responses = await asyncio.gather(*(signed.post(b) for b in bodies))
    assert all(r.status == 200 for r in responses)
    await signed.settle()
    assert len(await welcome_dms(signed, people.member)) == 1
    async with signed.yakuba.deps.db.read() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert [r.key for r in rows] == [f"welcome:{people.member}"]
    # bolt reuses the identity learned at start-up instead of one auth.test per concurrent request.
    assert len(signed.slack.calls_to("auth.test")) == 1


async def test_rate_limited_dm_is_retried_after_retry_after(signed, people):
    signed.slack.rate_limit("chat.postMessage", retry_after=1)
    started = time.monotonic()
    await signed.event(join_event(signed, people.member))
    await signed.settle()
    posts = signed.slack.calls_to("chat.postMessage")
    assert len(posts) == 2 and posts[0].status == 429
    assert posts[1].at - posts[0].at >= 1.0
    assert time.monotonic() - started >= 1.0
    assert len(await welcome_dms(signed, people.member)) == 1


async def test_server_errors_and_drops_are_retried(signed, people):
    signed.slack.fail("conversations.open", status=503)
    signed.slack.drop("chat.postMessage")
    await signed.event(join_event(signed, people.member))
    await signed.settle()
    assert len(await welcome_dms(signed, people.member)) == 1


async def test_permanent_error_is_recorded_not_retried_forever(signed, people):
    signed.slack.error("conversations.open", "account_inactive", times=None)
    await signed.event(join_event(signed, people.member))
    await signed.settle()
    async with signed.yakuba.deps.db.read() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row.status == "failed" and row.last_error == "account_inactive"
    assert len(signed.slack.calls_to("conversations.open")) == 1


async def test_bots_and_hostile_payloads_get_no_welcome(signed, people):
    bot_user = signed.slack.add_user("robot")
    bot_user = {**bot_user, "is_bot": True}
    await signed.event(req.team_join_event(bot_user))
    for user in ({"id": "<!channel>"}, {"id": 12}, "U123", {}, {"id": "U" + "A" * 500}):
        response = await signed.event({"type": "team_join", "user": user})
        assert response.status == 200
    await signed.settle()
    assert signed.slack.calls_to("chat.postMessage") == []
    async with signed.yakuba.deps.db.read() as session:
        assert (await session.scalars(select(Member))).all() == []


async def test_rejoin_restores_member_without_second_welcome(signed, people):
    await signed.event(join_event(signed, people.member))
    await signed.settle()
    from storage import members

    db = signed.yakuba.deps.db
    assert await members.mark_left(db, team_id="T0LOCAL", user_id=people.member)
    await signed.event(join_event(signed, people.member))
    await signed.settle()
    member = await members.get(db, team_id="T0LOCAL", user_id=people.member)
    assert member.left_at is None
    assert len(await welcome_dms(signed, people.member)) == 1
