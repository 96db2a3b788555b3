"""Demo journey 3 (庁内放送): the programme catalogue, a morning line-up, a subscription and a reminder."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path

from bot.blocks.programs import SUBSCRIBE
from bot.local.demo.story import JST, StoryClock
from bot.local.workspace import LocalWorkspace
from schedules import digest, reminders
from schedules.scheduler import Scheduler
from storage import programs
from storage.program_io import import_programs

EXAMPLE = Path(__file__).resolve().parents[3] / "storage" / "data" / "programs.example.yaml"


async def journey_broadcast(ws: LocalWorkspace, story: StoryClock) -> None:
    deps = ws.yakuba.deps
    story.at(datetime(2027, 3, 25, 18, 0, tzinfo=JST))
    tz = deps.settings.tz
    # The example file names placeholder hosts; here they become people of the local workspace.
    host = ws.slack.add_user("hikari", "写真 ひかり")["id"]
    text = EXAMPLE.read_text("utf-8")
    for n in range(1, 7):
        text = text.replace(f"U0EXAMPLE{n}", host if n == 1 else ws.organizer)
    ws.narrate("demo.programs.import")
    report = await import_programs(db=deps.db, team_id=deps.team_id, source=text)
    ws.printer(f"  · {len(report.created) + len(report.updated) + len(report.unchanged)} / {report.total}")

    # Next Sunday: PHOTO-LABO at 09:00 and the late-night study room are on air.
    today = deps.clock().astimezone(tz).date()
    sunday = today + timedelta(days=(6 - today.weekday()) % 7 or 7)
    scheduler = Scheduler(deps)
    morning = datetime.combine(sunday, time.fromisoformat(deps.settings.yakuba_digest_time), tzinfo=tz)
    ws.narrate("demo.programs.digest", when=morning.strftime("%Y-%m-%d %H:%M"))
    await scheduler.tick(digest.JOB, morning)
    await deps.drain()
    ws.show()

    ws.narrate("demo.programs.subscribe", name="佐藤 健")
    ws.me = ws.slack.add_user("sato", "佐藤 健")["id"]
    photo = await programs.get_program(db=deps.db, team_id=deps.team_id, name="photo-labo")
    await ws.click_action(SUBSCRIBE, value=str(photo.id))

    start = datetime.combine(sunday, photo.start_time, tzinfo=tz)
    before = start - timedelta(minutes=deps.settings.yakuba_reminder_minutes)
    ws.narrate("demo.programs.reminder", when=before.strftime("%H:%M"), minutes=deps.settings.yakuba_reminder_minutes)
    await scheduler.tick(reminders.JOB, before)
    await deps.drain()
    ws.show()
    ws.narrate("demo.programs.once")
    again = await scheduler.tick(reminders.JOB, before + timedelta(minutes=1))
    for slot, outcome in again:
        ws.printer("  · " + ws.texts(f"demo.programs.outcome.{outcome}", when=f"{slot.astimezone(tz):%H:%M}"))
