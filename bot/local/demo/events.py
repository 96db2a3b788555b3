"""Demo scene (説明会): the Friday session published, three newcomers for two seats, a cancellation that
promotes the waitlist, the reminder with the join link sent once, the survey, and the recording for who missed it."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.blocks.events import CANCEL, JOIN, MISSED, RATE
from bot.local.demo.story import JST, StoryClock, quietly
from bot.local.workspace import LocalWorkspace
from bot.services import events as service
from schedules import events as job
from schedules.scheduler import Scheduler
from storage import event_io
from storage import events as store

EXAMPLE = Path(__file__).resolve().parents[3] / "storage" / "data" / "events.example.yaml"
WHEN = datetime(2027, 3, 29, 10, 0, tzinfo=JST)  # the Monday before the first Friday 説明会 of April
NEWCOMERS = (("yamada", "山田 葵"), ("kobayashi", "小林 蓮"), ("nakamura", "中村 結衣"))
SEATS = 2  # the demo's session is small, so the waitlist shows


async def journey_events(ws: LocalWorkspace, story: StoryClock) -> None:
    deps = ws.yakuba.deps
    tz = deps.settings.tz
    story.at(WHEN)
    text = EXAMPLE.read_text("utf-8").replace("U0EXAMPLE1", ws.organizer).replace("U0EXAMPLE2", ws.organizer)
    path = Path(make_url(deps.db.url).database or ".").with_name("events.yaml")  # beside the demo's database
    path.write_text(text, encoding="utf-8")
    ws.narrate("events.demo.import")

    async def on_saved(event, outcome: str, publish: bool) -> None:
        if event.key.endswith("@2027-04-02"):
            event, outcome = await store.upsert(
                deps.db, team_id=deps.team_id, spec=replace(store.spec_of(event), capacity=SEATS)
            )
            await service.saved(deps, event, outcome, publish_now=True)

    report = await event_io.import_events(
        db=deps.db, team_id=deps.team_id, path=path, now=deps.clock(), tz=tz, on_saved=on_saved
    )
    ws.printer(f"  · {len(report.created) + len(report.updated) + len(report.unchanged)} / {report.total}")
    await deps.drain()
    ws.show()
    event = await store.by_key(deps.db, team_id=deps.team_id, key="setsumeikai@2027-04-02")
    assert event is not None
    value = str(event.id)

    people = []
    for login, name in NEWCOMERS:
        user = ws.slack.add_user(login, name)["id"]
        people.append(user)
        ws.me = user
        ws.narrate("events.demo.join", name=name)
        await ws.click_action(JOIN, value=value)
        await deps.drain()
        ws.show()

    ws.me = people[0]
    ws.narrate("events.demo.cancel", name=NEWCOMERS[0][1], other=NEWCOMERS[2][1])
    await ws.click_action(CANCEL, value=value)
    await deps.drain()
    ws.show()

    scheduler = Scheduler(deps)
    before = event.starts_at - timedelta(minutes=deps.settings.yakuba_event_reminder_minutes)
    story.at(before)
    ws.narrate("events.demo.reminder", when=before.astimezone(tz).strftime("%m/%d %H:%M"))
    await scheduler.tick(job.JOB, before)
    await deps.drain()
    ws.show()
    ws.narrate("events.demo.once")
    again = await quietly(ws, lambda: scheduler.run_slot(job.JOB, before))
    when = before.astimezone(tz).strftime("%H:%M")
    ws.printer("  · " + ws.texts(f"demo.programs.outcome.{again}", when=when))  # the programmes' own words

    after = event.ends_at + timedelta(minutes=deps.settings.yakuba_event_survey_minutes)
    story.at(after)
    ws.narrate("events.demo.survey")
    await scheduler.tick(job.JOB, after)
    await deps.drain()
    ws.show()
    ws.me = people[1]
    await ws.click_action(RATE, value=f"{value}:5")
    ws.me = people[2]
    await ws.click_action(MISSED, value=value)
    await deps.drain()
    ws.show()

    story.at(after + timedelta(days=1))
    ws.narrate("events.demo.archive")
    fresh = await store.by_key(deps.db, team_id=deps.team_id, key=event.key)
    assert fresh is not None
    spec = replace(store.spec_of(fresh), archive_url="https://video.example.jp/setsumeikai-0402")
    await service.save(deps, team_id=deps.team_id, spec=spec, by=ws.organizer)
    await deps.drain()
    ws.show()
