"""Auto-approvals in the daily admin summary (#16 point 4)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.registration import government_label
from schedules import approvals as summary_job
from schedules.scheduler import Scheduler
from storage.members import Profile
from tests import test_profile_registration as profile_flow
from tests.membership_flow import cards, channels, decide, member

JST = ZoneInfo("Asia/Tokyo")


settings = profile_flow.settings  # the same custom profile as the registration tests
auto_applicant = profile_flow.auto_applicant


@pytest.mark.start("2026-11-24T10:00+09:00")
async def test_daily_summary_lists_auto_approved_members_with_their_rule_once(signed, people):
    deps, texts = signed.yakuba.deps, signed.yakuba.deps.texts
    await channels(signed, ("13",))
    auto = await auto_applicant(signed)
    manual = signed.slack.add_user("ken", "山田 健", email="ken@gmail.com")["id"]
    await profile_flow.submit(signed, manual, profile_flow.values(name="山田 健"))
    await decide(signed, people.organizer, cards(signed, people.admin_channel, manual)[-1], people.admin_channel)
    assert (await member(signed, manual)).approved_by == people.organizer
    before = len(signed.slack.messages(people.admin_channel))

    scheduler = Scheduler(deps, jobs=[summary_job.JOB])
    morning = datetime(2026, 11, 25, 9, 0, 30, tzinfo=JST)
    signed.clock.set(morning)
    assert [o for _, o in await scheduler.tick(summary_job.JOB, morning)] == ["done"]
    await signed.settle()
    posted = signed.slack.messages(people.admin_channel)[before:]
    assert [m["text"] for m in posted] == [texts("approvals.nudge.auto_text", count=1)]
    row = await member(signed, auto)
    line = texts(
        "approvals.nudge.auto_line",
        user=auto,
        name=row.name,
        government=government_label(texts, Profile.of(row)),
        domain="lg.jp",
    )
    body = json.dumps(posted[0]["blocks"], ensure_ascii=False)
    assert json.dumps(line, ensure_ascii=False)[1:-1] in body
    assert "&lt;!here&gt;" in body and "<!here>" not in body  # the name is escaped and pings nobody
    assert manual not in body  # approved by an organiser: not the rule's doing

    # The next morning's summary covers only what happened since: nothing new, nothing posted.
    next_morning = morning + timedelta(days=1)
    signed.clock.set(next_morning)
    assert [o for _, o in await scheduler.tick(summary_job.JOB, next_morning)] == ["done"]
    await signed.settle()
    assert len(signed.slack.messages(people.admin_channel)) == before + 1
