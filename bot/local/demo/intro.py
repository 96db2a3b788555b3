"""Demo scene (繋がりづくり): a member opts in, a round pairs people of different governments, the check-in."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.blocks.intro import CHECKIN_ACTION
from bot.local.demo.story import JST, StoryClock, quietly
from bot.local.workspace import LocalWorkspace
from schedules import intro as jobs
from schedules.scheduler import Scheduler
from storage import intro
from storage.models import Member

# (login, name, org_type, prefecture, municipality, department): five governments, five people.
PEOPLE = (
    ("mori", "森 あおい", "municipality", "20", "202029", "観光課"),
    ("kato", "加藤 誠", "municipality", "07", "072010", "スポーツ振興課"),
    ("ueda", "上田 真理", "prefecture", "17", None, "デジタル推進課"),
    ("oshiro", "大城 健太", "municipality", "47", "472018", "防災危機管理課"),
    ("ito", "伊藤 由紀", "national", "13", None, "地域政策課"),
)
ROUND = datetime(2027, 4, 12, 10, 0, tzinfo=JST)  # a round Monday (every other week from 2026-01-05)


async def journey_intro(ws: LocalWorkspace, story: StoryClock) -> None:
    deps = ws.yakuba.deps
    story.at(ROUND - timedelta(days=3))
    users = []
    async with deps.db.write() as session:
        for login, name, org_type, pref, muni, department in PEOPLE:
            user = ws.slack.add_user(login, name)["id"]
            users.append(user)
            now = deps.clock()
            session.add(
                Member(
                    team_id=deps.team_id, user_id=user, status="approved", name=name, org_type=org_type,
                    pref_code=pref, muni_code=muni, department=department, interests=[], joined_at=now,
                    created_at=now, updated_at=now, approved_at=now,
                )
            )  # fmt: skip
    ws.me = users[0]
    ws.narrate("intro.demo.opt_in", name=PEOPLE[0][1])
    await ws.command("/intro", "on")
    for user in users[1:]:
        await quietly(ws, lambda user=user: intro.set_optin(deps.db, team_id=deps.team_id, user_id=user, active=True))
    ws.narrate("intro.demo.round", when=ROUND.strftime("%Y-%m-%d %H:%M"), count=len(users))
    scheduler = Scheduler(deps)
    story.at(ROUND)
    await scheduler.tick(jobs.JOB, ROUND + timedelta(seconds=30))
    await deps.drain()
    ws.show()
    ws.narrate("intro.demo.once")
    for slot, outcome in await scheduler.tick(jobs.JOB, ROUND + timedelta(minutes=1)):
        ws.printer("  · " + ws.texts(f"demo.programs.outcome.{outcome}", when=f"{slot.astimezone(JST):%Y-%m-%d %H:%M}"))

    week = ROUND + timedelta(days=7)
    story.at(week)
    ws.narrate("intro.demo.checkin")
    await scheduler.tick(jobs.CHECKIN_JOB, week + timedelta(seconds=30))
    await deps.drain()
    ws.show()
    # The DM shown is one member's (the same question went to everyone): they answer it.
    shown = next(c for c in reversed(ws.clickables) if c.element.get("action_id") == f"{CHECKIN_ACTION}.met")
    ws.me = (ws.slack.ws.channels.get(shown.channel or "") or {}).get("user") or ws.me
    await ws.click_action(f"{CHECKIN_ACTION}.met")
    ws.narrate("intro.demo.stats")
    ws.me = ws.organizer
    await ws.command("/members", "stats")
