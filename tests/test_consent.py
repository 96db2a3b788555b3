"""Consent history (#16 point 5): new terms are asked for once per member, recorded on press, shown to organisers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import update

from bot.blocks.consent import AGREE
from schedules import consent as consent_job
from schedules.scheduler import Scheduler
from storage.community import parse
from storage.models import Member
from tests import test_profile_registration as profile_flow
from tests.community_flow import add_member
from tests.membership_flow import TEAM, channels, member

JST = ZoneInfo("Asia/Tokyo")
NEW_VERSION = "2027-04"


settings = profile_flow.settings  # the same custom profile as the registration tests
auto_applicant = profile_flow.auto_applicant


def with_version(version: str):
    raw = yaml.safe_load(profile_flow.PROFILE)
    raw["consent"]["version"] = version
    return parse(raw)


def asks(signed, user_id: str) -> list[dict]:
    return [m for m in signed.slack.dm_messages(user_id) if AGREE in json.dumps(m.get("blocks") or [])]


async def approvals_footer(signed, organizer: str) -> str:
    listing = await (await signed.command(organizer, "/approvals")).json()
    return json.dumps(listing, ensure_ascii=False)


@pytest.mark.start("2026-11-24T10:00+09:00")
async def test_new_terms_are_asked_once_recorded_on_press_and_shown_to_organisers(signed, people, monkeypatch):
    deps, texts = signed.yakuba.deps, signed.yakuba.deps.texts
    monkeypatch.setattr(consent_job, "BATCH", 1)  # pages of one: members asked before must not hide the rest
    await channels(signed, ("13",))
    agreed = await auto_applicant(signed)  # agreed to 2026-11 in the form
    await add_member(signed, people.member)  # joined before terms existed: never agreed
    pending = signed.slack.add_user("machi", "待機 中")["id"]
    await add_member(signed, pending, status="pending")
    gone = signed.slack.add_user("sayonara", "退会 済")["id"]
    await add_member(signed, gone, left_at=signed.clock())
    async with deps.db.write() as session:
        await session.execute(
            update(Member).where(Member.team_id == TEAM, Member.user_id == gone).values(consent_version=None)
        )

    scheduler = Scheduler(deps, jobs=[consent_job.JOB])
    first = datetime(2026, 11, 24, 10, 40, 30, tzinfo=JST)
    signed.clock.set(first)
    await scheduler.tick(consent_job.JOB, first)
    await signed.settle()
    assert asks(signed, agreed) == []  # already agreed to the version in force
    assert len(asks(signed, people.member)) == 1  # never agreed to any
    assert "2026-11" in await approvals_footer(signed, people.organizer)

    # The organisers publish new terms: every approved member is asked once, whatever runs the job.
    deps.community = with_version(NEW_VERSION)
    second = first + timedelta(hours=1)
    signed.clock.set(second)
    assert [o for _, o in await scheduler.tick(consent_job.JOB, second)] == ["done"]
    assert [o for _, o in await scheduler.tick(consent_job.JOB, second)] == ["taken"]
    await consent_job.run(deps, second + timedelta(hours=1))  # another replica, or a restart re-running a slot
    await signed.settle()
    ask = asks(signed, agreed)
    assert len(ask) == 1 and len(asks(signed, people.member)) == 2  # one per version
    assert asks(signed, pending) == [] and asks(signed, gone) == []
    assert ask[0]["text"] == texts("consent.dm.fallback", version=NEW_VERSION)
    assert "https://example.jp/terms" in json.dumps(ask[0]["blocks"])
    button = next(e for b in ask[0]["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert button["text"]["text"] == texts("consent.dm.agree") and button["style"] == "primary"
    assert button["value"] == NEW_VERSION

    footer = await approvals_footer(signed, people.organizer)
    assert texts("approvals.list.consent", count=2, version=NEW_VERSION) in footer
    assert f"<@{agreed}>" in footer and f"<@{people.member}>" in footer and f"<@{pending}>" not in footer

    # An old DM's button cannot agree to the new terms.
    old = asks(signed, people.member)[0]
    await signed.action(people.member, AGREE, "2026-11", channel_id=signed.slack.dm_channel(people.member), message=old)
    await signed.settle()
    assert signed.slack.ephemerals(people.member)[-1]["text"] == texts("consent.press.outdated")
    assert (await member(signed, people.member)).consent_version is None

    pressed_at = second + timedelta(minutes=5)
    signed.clock.set(pressed_at)
    response = await signed.action(
        agreed, AGREE, NEW_VERSION, channel_id=signed.slack.dm_channel(agreed), message=ask[0]
    )
    assert response.status == 200
    await signed.settle()
    row = await member(signed, agreed)
    assert row.consent_version == NEW_VERSION
    assert pressed_at <= row.consent_at < pressed_at + timedelta(seconds=5)  # the test clock runs on a little
    receipt = asks(signed, agreed)
    assert receipt == []  # the DM became the receipt: no button left to press twice
    assert signed.slack.dm_messages(agreed)[-1]["text"] == texts("consent.dm.agreed", version=NEW_VERSION)

    footer = await approvals_footer(signed, people.organizer)
    assert texts("approvals.list.consent", count=1, version=NEW_VERSION) in footer
    assert f"<@{agreed}>" not in footer and f"<@{people.member}>" in footer
    # Once agreed, a later run asks nothing more.
    dms = len(signed.slack.dm_messages(agreed))
    assert await consent_job.run(deps, second + timedelta(hours=2)) == "waiting=1 asked=0"
    await signed.settle()
    assert len(signed.slack.dm_messages(agreed)) == dms
