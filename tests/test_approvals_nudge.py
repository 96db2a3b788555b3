"""The daily nudge: registrations pending more than 3 business days (holidays excluded), once a day."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from schedules import approvals as approvals_nudge
from schedules.scheduler import Scheduler
from tests.membership_flow import register

JST = ZoneInfo("Asia/Tokyo")


def test_business_days_skip_weekends_and_japanese_holidays():
    assert not approvals_nudge.is_business_day(date(2026, 11, 23))  # 勤労感謝の日 (Monday)
    assert not approvals_nudge.is_business_day(date(2026, 11, 21))  # Saturday
    assert approvals_nudge.business_days_after(date(2026, 11, 19), date(2026, 11, 25)) == 3
    assert approvals_nudge.business_days_after(date(2026, 11, 19), date(2026, 11, 26)) == 4


@pytest.mark.start("2026-11-19T10:00+09:00")  # a Thursday: the app starts, and the member registers, then
async def test_nudge_waits_past_the_holiday_and_posts_once_a_day(signed, people):
    deps = signed.yakuba.deps
    await register(signed, people.member, name="<!channel> 田中")
    signed.clock.set(datetime(2026, 11, 26, 9, 0, 30, tzinfo=JST))  # the outbox sends "now"
    scheduler = Scheduler(deps, jobs=[approvals_nudge.JOB])
    texts = deps.texts

    def nudges() -> list[dict]:
        return [
            m
            for m in signed.slack.messages(people.admin_channel)
            if m["text"] == texts("approvals.nudge.text", count=1)
        ]

    # Fri 20 = 1, (Sat, Sun, Mon 23 holiday), Tue 24 = 2, Wed 25 = 3: not yet more than 3.
    results = await scheduler.tick(approvals_nudge.JOB, datetime(2026, 11, 25, 9, 0, 30, tzinfo=JST))
    assert [outcome for _, outcome in results] == ["done"]
    assert nudges() == []

    thursday = datetime(2026, 11, 26, 9, 0, 30, tzinfo=JST)
    assert [o for _, o in await scheduler.tick(approvals_nudge.JOB, thursday)] == ["done"]
    assert [o for _, o in await scheduler.tick(approvals_nudge.JOB, thursday)] == ["taken"]
    await signed.settle()
    posted = nudges()
    assert len(posted) == 1
    assert f"<@{people.member}>" in str(posted[0]["blocks"]) and "&lt;!channel&gt;" in str(posted[0]["blocks"])
    assert "<!channel>" not in str(posted[0])
    # A second run for the same day (e.g. another process) does not post twice either.
    await approvals_nudge.run(deps, thursday)
    await signed.settle()
    assert len(nudges()) == 1
