"""県人会 placement is a durable step: retried through rate limits and not_in_channel, reported when it cannot be,
and the greeting and the "approved" DM go out only once the member is in the channel (or they hear it is pending).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.blocks.approvals import APPROVE, channel_ready_dm, greeting
from bot.services.prefectures import channel_names
from bot.texts.markup import safe
from storage import members, prefectures
from storage.members import Profile
from storage.models import OutboxMessage
from tests.membership_flow import (
    TEAM,
    approved,
    card_buttons,
    cards,
    channels,
    decide,
    form_values,
    member,
    open_form,
    register,
)
from tests.test_privacy import forget


def texts(signed):
    return signed.yakuba.deps.texts


async def channel_of(signed, code: str) -> str:
    return (await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code=code)).channel_id


async def retry_later(signed) -> None:
    """Past every back-off: what a later outbox tick finds due, sent now."""
    await signed.settle()
    signed.clock.advance(timedelta(hours=1))
    await signed.yakuba.deps.outbox.flush()
    await signed.settle()


def story(signed, *, user: str, channel: str) -> list[str]:
    """What reached Slack for one member's placement, in order: accepted calls by name, refused ones with the error.

    "invite", "join", "kick", "greeting" (a post in `channel`), "dm" (a post in the member's DM), "report" (a post
    in the admin channel).
    """
    admin = signed.yakuba.settings.yakuba_admin_channel
    dm = signed.slack.ws.dm_for(user, create=False)
    out = []
    for call in signed.slack.calls:
        ok, error = call.response.get("ok"), call.response.get("error") or call.status
        name = None
        if call.method == "conversations.invite" and call.args.get("users") == user:
            name = "invite"
        elif call.method == "conversations.join" and call.args.get("channel") == channel:
            name = "join"
        elif call.method == "conversations.kick" and call.args.get("user") == user:
            name = "kick"
        elif call.method == "chat.postMessage":
            where = call.args.get("channel")
            name = {channel: "greeting", admin: "report", dm["id"] if dm else None: "dm"}.get(where)
        if name:
            out.append(name if ok else f"{name}:{error}")
    return out


async def approve(signed, people, user: str) -> None:
    await register(signed, user)
    signed.slack.clear_calls()  # the story starts at the decision
    await decide(signed, people.organizer, cards(signed, people.admin_channel, user)[-1], people.admin_channel)


def approved_dm_text(signed) -> str:
    community = signed.yakuba.settings.yakuba_community_name
    return texts(signed)("approvals.approved_dm.fallback", community=community)


# ok: false with HTTP 200 reaches the outbox at once; HTTP 429 only once the client's own 5 retries (each after
# Retry-After: 1 s) are spent.
@pytest.mark.parametrize("limited", [1, 6], ids=["ok false", "HTTP 429 beyond the client's retries"])
async def test_a_rate_limited_invite_is_retried_and_the_greeting_and_dm_follow_it(signed, people, limited):
    await channels(signed)
    tokyo = await channel_of(signed, "13")
    if limited == 1:
        signed.slack.error("conversations.invite", "ratelimited")
    else:
        signed.slack.rate_limit("conversations.invite", retry_after=1, times=limited)
    await approve(signed, people, people.member)

    # Not in yet: nothing tells anyone they are.
    refused = ["invite:ratelimited"] * limited
    assert people.member not in signed.slack.channel(tokyo)["members"]
    assert story(signed, user=people.member, channel=tokyo) == refused
    assert (await member(signed, people.member)).placed_pref_code is None

    await retry_later(signed)
    assert people.member in signed.slack.channel(tokyo)["members"]
    assert story(signed, user=people.member, channel=tokyo) == [*refused, "invite", "greeting", "dm"]
    assert signed.slack.dm_messages(people.member)[-1]["text"] == approved_dm_text(signed)
    assert f"<#{tokyo}>" in json.dumps(signed.slack.dm_messages(people.member)[-1]["blocks"])
    assert (await member(signed, people.member)).placed_pref_code == "13"

    await retry_later(signed)  # nothing is left to do, nothing is done twice
    assert story(signed, user=people.member, channel=tokyo) == [*refused, "invite", "greeting", "dm"]


@pytest.mark.parametrize("how", ["bot outside the channel", "injected"])
async def test_not_in_channel_joins_then_invites(signed, people, how):
    if how == "injected":
        await channels(signed)
        signed.slack.error("conversations.invite", "not_in_channel")
    else:
        names = channel_names(signed.yakuba.settings.yakuba_prefecture_channel_pattern)
        created = signed.slack.add_channel(names["13"], bot_member=False)
        await prefectures.record(
            signed.yakuba.deps.db, team_id=TEAM, pref_code="13", channel_id=created["id"], name=names["13"]
        )
    tokyo = await channel_of(signed, "13")
    await approve(signed, people, people.member)

    steps = ["invite:not_in_channel", "join", "invite", "greeting", "dm"]
    assert story(signed, user=people.member, channel=tokyo) == steps
    assert people.member in signed.slack.channel(tokyo)["members"]
    profile = Profile.of(await member(signed, people.member))
    assert [m["text"] for m in signed.slack.messages(tokyo)] == [
        greeting(texts(signed), user_id=people.member, profile=profile)["text"]
    ]


async def test_an_archived_channel_is_reported_once_and_the_member_told_it_is_pending(signed, people):
    await channels(signed)
    tokyo = await channel_of(signed, "13")
    signed.slack.archive(tokyo)
    await approve(signed, people, people.member)
    await retry_later(signed)
    await retry_later(signed)

    t = texts(signed)
    assert story(signed, user=people.member, channel=tokyo) == ["invite:is_archived", "report", "dm"]
    fix = t("prefectures.placement.fix.is_archived")
    [report] = [m for m in signed.slack.messages(people.admin_channel) if fix in m["text"]]
    assert report["text"] == t(
        "prefectures.placement.failed",
        user=people.member,
        channel=tokyo,
        error="is_archived",
        fix=fix,
    )
    told = signed.slack.dm_messages(people.member)[-1]
    body = json.dumps(told, ensure_ascii=False)
    assert t("approvals.approved_dm.pending", prefecture="東京都", channel=safe(f"<#{tokyo}>")) in body
    assert t("approvals.approved_dm.channel", prefecture="東京都", channel=safe(f"<#{tokyo}>")) not in body
    assert signed.slack.messages(tokyo) == []  # no greeting
    assert people.member not in signed.slack.channel(tokyo)["members"]
    assert (await member(signed, people.member)).placed_pref_code is None

    # The one-line fix works: unarchived, set-up places the member, greets and tells them, once.
    signed.slack.archive(tokyo, False)
    await signed.command(people.organizer, "/yakuba", "setup prefectures")
    await signed.settle()
    assert people.member in signed.slack.channel(tokyo)["members"]
    profile = Profile.of(await member(signed, people.member))
    assert [m["text"] for m in signed.slack.messages(tokyo)] == [
        greeting(t, user_id=people.member, profile=profile)["text"]
    ]
    ready = channel_ready_dm(t, pref_code="13", channel_id=tokyo)["text"]
    assert signed.slack.dm_messages(people.member)[-1]["text"] == ready
    assert len([m for m in signed.slack.messages(people.admin_channel) if m["text"] == report["text"]]) == 1


async def test_a_transfer_through_a_failing_invite_ends_in_the_new_channel_once(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    tokyo, osaka = await channel_of(signed, "13"), await channel_of(signed, "27")
    signed.slack.error("conversations.invite", "ratelimited", where={"channel": osaka})
    signed.slack.error("conversations.kick", "ratelimited")  # the old channel is left on a later attempt
    signed.slack.clear_calls()

    view = await open_form(signed, people.member)
    confirm = (await (await signed.submit(people.member, view, form_values(pref="27", muni="271004"))).json())["view"]
    await signed.submit(people.member, confirm, {})
    await signed.settle()
    assert people.member not in signed.slack.channel(osaka)["members"]
    assert people.member in signed.slack.channel(tokyo)["members"]  # nobody is left without a 県人会 meanwhile
    assert signed.slack.messages(osaka) == []

    for _ in range(3):
        await retry_later(signed)
    assert people.member in signed.slack.channel(osaka)["members"]
    assert people.member not in signed.slack.channel(tokyo)["members"]
    assert story(signed, user=people.member, channel=osaka) == [
        "invite:ratelimited",
        "invite",
        "kick:ratelimited",  # the step is tried again as a whole: the invite is done already
        "invite:already_in_channel",
        "kick",
        "greeting",
        "dm",
    ]
    assert len(signed.slack.messages(osaka)) == 1
    profile = Profile.of(await member(signed, people.member))
    welcome = greeting(texts(signed), user_id=people.member, profile=profile, key="registration.transfer.greeting")
    assert signed.slack.messages(osaka)[0]["text"] == welcome["text"]
    assert signed.slack.dm_messages(people.member)[-1]["text"] == texts(signed)(
        "registration.transfer.done", prefecture="大阪府"
    )
    assert (await member(signed, people.member)).placed_pref_code == "27"


async def test_a_transfer_to_an_archived_channel_says_it_is_pending_and_keeps_the_old_one(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    tokyo, osaka = await channel_of(signed, "13"), await channel_of(signed, "27")
    signed.slack.archive(osaka)
    view = await open_form(signed, people.member)
    confirm = (await (await signed.submit(people.member, view, form_values(pref="27", muni="271004"))).json())["view"]
    await signed.submit(people.member, confirm, {})
    await signed.settle()
    t = texts(signed)
    assert people.member in signed.slack.channel(tokyo)["members"]
    assert signed.slack.dm_messages(people.member)[-1]["text"] == t(
        "registration.transfer.pending", prefecture="大阪府"
    )
    fix = t("prefectures.placement.fix.is_archived")
    assert [m["text"] for m in signed.slack.messages(people.admin_channel) if fix in m["text"]] == [
        t("prefectures.placement.failed", user=people.member, channel=osaka, error="is_archived", fix=fix)
    ]


async def test_an_invite_that_landed_before_a_crash_is_done_not_doubled(signed, people):
    """Slack took the invite, the process died before marking the row: the next attempt sees already_in_channel."""
    await channels(signed)
    tokyo = await channel_of(signed, "13")
    await register(signed, people.member)
    signed.slack.add_members(tokyo, people.member)
    signed.slack.clear_calls()
    await decide(signed, people.organizer, cards(signed, people.admin_channel, people.member)[-1], people.admin_channel)
    assert story(signed, user=people.member, channel=tokyo) == ["invite:already_in_channel", "greeting", "dm"]
    assert signed.slack.dm_messages(people.member)[-1]["text"] == approved_dm_text(signed)


async def test_two_replicas_flushing_at_once_place_once(signed, people, settings, clock):
    await channels(signed)
    tokyo = await channel_of(signed, "13")
    other = create_app(settings, clock=clock, team_id=TEAM)
    try:
        await register(signed, people.member)
        signed.slack.clear_calls()
        signed.slack.delay("conversations.invite", 0.3)  # whoever invites first is still at it when the other looks
        card = cards(signed, people.admin_channel, people.member)[-1]
        value = card_buttons(card)[0]["value"]
        await asyncio.gather(
            signed.action(people.organizer, APPROVE, value, channel_id=people.admin_channel, message=card),
            other.deps.outbox.flush(),
            other.deps.outbox.flush(),
        )
        await signed.settle()
        await other.deps.outbox.flush()
    finally:
        await other.close()
    assert story(signed, user=people.member, channel=tokyo) == ["invite", "greeting", "dm"]


async def test_placement_rows_are_keyed_once_per_decision_and_name_no_one(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    row = await member(signed, people.member)
    async with signed.yakuba.deps.db.read() as session:
        invites = (await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invite"))).all()
    assert len(invites) == 1 and invites[0].status == "sent"
    assert people.member not in invites[0].key and people.member not in json.dumps(invites[0].payload)
    assert invites[0].payload["member"] == row.id


async def test_a_reactivated_member_is_put_back_through_a_rate_limit(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    tokyo = await channel_of(signed, "13")
    user = signed.slack.user(people.member)
    await signed.event({"type": "user_change", "user": {**user, "deleted": True}})
    await signed.settle()
    signed.slack.remove_members(tokyo, people.member)
    await members.set_placed(signed.yakuba.deps.db, member_id=(await member(signed, people.member)).id, pref_code=None)
    signed.slack.error("conversations.invite", "ratelimited")
    signed.slack.clear_calls()
    await signed.event({"type": "user_change", "user": {**user, "deleted": False}})
    await signed.settle()
    assert people.member not in signed.slack.channel(tokyo)["members"]
    await retry_later(signed)
    assert people.member in signed.slack.channel(tokyo)["members"]
    assert story(signed, user=people.member, channel=tokyo) == ["invite:ratelimited", "invite"]  # no second welcome


async def test_forgetting_a_member_whose_placement_waits_cancels_it(signed, people):
    await channels(signed)
    tokyo = await channel_of(signed, "13")
    signed.slack.error("conversations.invite", "ratelimited")
    await approve(signed, people, people.member)
    assert await forget(signed, people.member) == texts(signed)("privacy.forget.done")
    await retry_later(signed)
    assert story(signed, user=people.member, channel=tokyo) == ["invite:ratelimited"]  # no second try, no greeting
    async with signed.yakuba.deps.db.read() as session:
        rows = (await session.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith("placement")))).all()
    assert [(r.status, r.payload) for r in rows] == [("failed", {})]
