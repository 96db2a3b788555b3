"""庁内放送 on a controllable clock: two weeks of line-ups and reminders, restarts and two processes, exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import create_app
from schedules import digest, reminders
from schedules.scheduler import Scheduler
from storage import job_runs, migrate
from storage import programs as repo
from storage.program_checks import parse_program
from storage.program_io import import_programs

TEAM = "T0LOCAL"
# Far enough ahead that the outbox (which stamps rows with the wall clock) finds every row due.
MONDAY = "2030-01-14"  # 成人の日 (Coming of Age Day), a public holiday

CATALOGUE = """
programs:
  - name: asa
    title: 朝の体操
    personalities: [{p1}]
    start: "07:00"
    duration: 15
    recurrence: daily
  - name: ohayo
    title: おはよう庁内放送
    personalities: [{p2}]
    start: "07:30"
    duration: 15
    recurrence: {{kind: weekly, weekdays: 平日, holidays: skip}}
  - name: hiru
    title: ひるやすみ <!channel>
    personalities: [{p3}]
    start: "12:00"
    duration: 30
    recurrence: {{kind: weekly, weekdays: mon-fri}}
  - name: vaccine
    title: ワクチン接種情報交換会
    personalities: [{p3}]
    start: "10:00"
    duration: 90
    channel: {vax}
    recurrence: {{kind: biweekly, anchor: 2030-01-05}}
    holidays: skip
  - name: shinya
    title: 深夜の自習室
    personalities: [{p4}]
    start: "00:05"
    duration: 60
    recurrence: {{kind: weekly, weekdays: [mon]}}
"""


def jst(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+09:00").astimezone(UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def cast(slack):
    users = {name: slack.add_user(name)["id"] for name in ("p1", "p2", "p3", "p4", "fan")}
    users["vax"] = slack.add_channel("vaccine-koukankai")["id"]
    return users


@pytest.fixture
async def app(settings, cast):
    clock = Clock(jst(f"{MONDAY}T00:00"))
    yakuba = create_app(settings, clock=clock, team_id=TEAM)
    await migrate.upgrade(yakuba.deps.db)
    report = await import_programs(db=yakuba.deps.db, team_id=TEAM, source=CATALOGUE.format(**cast))
    assert report.ok, report.errors
    yakuba.clock = clock
    yield yakuba
    await yakuba.close()


async def subscribe(app, user: str, *names: str) -> None:
    for name in names:
        program = await repo.get_program(db=app.deps.db, team_id=TEAM, name=name)
        await repo.subscribe(db=app.deps.db, team_id=TEAM, program_id=program.id, user_id=user)


async def run_ticks(app, scheduler: Scheduler, start: datetime, end: datetime, step: timedelta) -> None:
    now = start
    while now <= end:
        app.clock.now = now
        for job in (digest.JOB, reminders.JOB):
            await scheduler.tick(scheduler.jobs[job.name], now)
        now += step
    await app.deps.drain()
    await app.deps.outbox.flush()


def posts(slack, channel: str) -> list[dict]:
    return slack.messages(channel)


def texts_of(messages: list[dict]) -> list[str]:
    return [str(m.get("blocks")) + m.get("text", "") for m in messages]


async def test_two_weeks_of_lineups_and_reminders(app, slack, people, cast):
    await subscribe(app, cast["fan"], "vaccine", "ohayo")
    await subscribe(app, cast["p1"], "asa")  # a personality who also subscribed hears once
    # Ticks as far apart as the grace window: the windows (now - grace, now] tile the fortnight with no gap.
    app.deps.settings = app.deps.settings.model_copy(update={"yakuba_catchup_minutes": 120})
    scheduler = Scheduler(app.deps)
    # Sunday evening before the holiday Monday, to the second Sunday night.
    await run_ticks(app, scheduler, jst("2030-01-13T21:00"), jst("2030-01-27T23:00"), timedelta(minutes=120))
    texts = app.deps.texts
    broadcast = posts(slack, people.broadcast_channel)
    lineups = [m for m in broadcast if m["blocks"][0]["type"] == "header"]
    assert len(lineups) == 14  # one line-up a day, 08:30
    assert len(broadcast) - len(lineups) == 14 + 9 + 10 + 2  # asa daily, ohayo not on 成人の日, hiru, shinya
    assert len(posts(slack, cast["vax"])) == 1  # every other Saturday: the 19th, not the 26th
    dms = {who: len(slack.dm_messages(cast[who])) for who in ("p1", "p2", "p3", "p4", "fan")}
    assert dms == {"p1": 14, "p2": 9, "p3": 10 + 1, "p4": 2, "fan": 1 + 9}
    # The holiday's line-up says so and has no ohayo; Saturdays differ by the biweekly programme.
    first = str(lineups[0]["blocks"])
    assert texts("programs.lineup.holiday", name="成人の日") in first and "おはよう庁内放送" not in first
    saturdays = [str(m["blocks"]) for m in lineups if "土" in m["text"] or "Sat" in m["text"]]
    assert ["ワクチン接種情報交換会" in s for s in saturdays] == [True, False]
    # Hostile text in a title stays inert everywhere it is posted.
    assert all("<!channel>" not in t for t in texts_of(broadcast))
    assert any("&lt;!channel&gt;" in t for t in texts_of(broadcast))
    # Every claim recorded once, done.
    runs = await job_runs.runs(app.deps.db, team_id=TEAM, limit=1000)
    assert Counter(r.status for r in runs) == {"done": 14 + 14 + 9 + 10 + 1 + 2}


async def test_programmes_starting_together_share_one_slot(app, slack, people, cast):
    spec, _ = parse_program(
        {
            "name": "asa2",
            "title": "朝のラジオ",
            "personalities": [cast["p2"]],
            "start": "07:00",
            "duration": 10,
            "recurrence": "daily",
        }
    )
    await repo.upsert_program(db=app.deps.db, team_id=TEAM, spec=spec)
    scheduler = Scheduler(app.deps)
    app.clock.now = jst("2030-01-15T06:50")
    assert await scheduler.tick(scheduler.jobs["reminders"], app.clock.now) == [(app.clock.now, "done")]
    await app.deps.drain()
    assert len(posts(slack, people.broadcast_channel)) == 2
    assert len(slack.dm_messages(cast["p1"])) == len(slack.dm_messages(cast["p2"])) == 1


async def test_a_reminder_slot_across_midnight_and_the_utc_date_line(app, slack, cast):
    scheduler = Scheduler(app.deps)
    job = scheduler.jobs["reminders"]
    # 深夜の自習室 starts Monday 00:05 JST, so its reminder is Sunday 23:55 — the day before.
    slots = await reminders.slots(app.deps, jst("2030-01-13T23:00"), jst("2030-01-14T00:30"))
    assert slots == [jst("2030-01-13T23:55")]
    app.clock.now = jst("2030-01-13T23:56")
    assert await scheduler.tick(job, jst("2030-01-13T23:56")) == [(jst("2030-01-13T23:55"), "done")]
    app.clock.now = jst("2030-01-14T00:01")
    assert await scheduler.tick(job, jst("2030-01-14T00:01")) == [(jst("2030-01-13T23:55"), "taken")]
    await app.deps.drain()
    assert len(slack.dm_messages(cast["p4"])) == 1
    # 08:30 JST is 23:30 UTC of the previous day: the line-up is still the local day's.
    app.clock.now = jst("2030-01-14T08:31")
    await scheduler.tick(scheduler.jobs["digest"], jst("2030-01-14T08:31"))
    await app.deps.drain()
    [row] = [r for r in await job_runs.runs(app.deps.db, team_id=TEAM, job="digest")]
    assert row.detail == "programmes=3"  # shinya 00:05, asa, hiru — and no ohayo on the holiday


async def test_nothing_on_air_no_post_unless_configured(app, slack, people):
    for program in await repo.list_programs(db=app.deps.db, team_id=TEAM):
        await repo.pause_program(db=app.deps.db, team_id=TEAM, program_id=program.id)
    scheduler = Scheduler(app.deps)
    app.clock.now = jst("2030-01-15T08:30")
    assert await scheduler.tick(scheduler.jobs["digest"], app.clock.now) == [(app.clock.now, "done")]
    app.deps.settings = app.deps.settings.model_copy(update={"yakuba_digest_empty": True})
    app.clock.now = jst("2030-01-16T08:30")
    await scheduler.tick(scheduler.jobs["digest"], app.clock.now)
    await app.deps.drain()
    [post] = posts(slack, people.broadcast_channel)
    assert app.deps.texts("programs.lineup.empty") in str(post["blocks"])


async def test_the_digest_time_and_reminder_lead_are_settings(app, slack, cast):
    app.deps.settings = app.deps.settings.model_copy(
        update={"yakuba_digest_time": "06:45", "yakuba_reminder_minutes": 30}
    )
    scheduler = Scheduler(app.deps)
    window = (jst("2030-01-15T06:00"), jst("2030-01-15T07:10"))
    assert await digest.slots(app.deps, *window) == [jst("2030-01-15T06:45")]
    assert await reminders.slots(app.deps, *window) == [jst("2030-01-15T06:30"), jst("2030-01-15T07:00")]
    app.clock.now = jst("2030-01-15T06:31")
    await scheduler.tick(scheduler.jobs["reminders"], app.clock.now)
    await app.deps.drain()
    [dm] = slack.dm_messages(cast["p1"])
    assert app.deps.texts("programs.reminder.dm_personality", title="朝の体操", minutes=30, start="07:00") in str(dm)


async def test_restart_catches_up_within_grace_and_skips_stale(app, settings, slack, people, cast, caplog):
    """Down from 06:00 to 07:45 on Tuesday: asa's 06:50 reminder is stale, ohayo's 07:20 one is caught up.

    Also: a digest claimed by a process that died before queueing anything is run again by the next one.
    """
    day = "2030-01-15"
    dead = "dead-host:1"
    assert await job_runs.claim(app.deps.db, team_id=TEAM, job="digest", slot=jst(f"{day}T08:30"), owner=dead)
    # …and one that died yesterday morning: too late to post now, so it is closed as skipped.
    assert await job_runs.claim(app.deps.db, team_id=TEAM, job="digest", slot=jst("2030-01-14T08:30"), owner=dead)
    restarted = create_app(settings, clock=lambda: jst(f"{day}T08:40"), team_id=TEAM)
    try:
        with caplog.at_level(logging.WARNING):
            await Scheduler(restarted.deps).catch_up(jst(f"{day}T07:45"))
            await Scheduler(restarted.deps).catch_up(jst(f"{day}T08:40"))
            await Scheduler(restarted.deps).catch_up(jst(f"{day}T08:41"))  # a second restart changes nothing
        await restarted.deps.drain()
        await restarted.deps.outbox.flush()
    finally:
        await restarted.close()
    statuses = {(r.job, r.slot): r.status for r in await job_runs.runs(app.deps.db, team_id=TEAM, limit=100)}
    assert statuses[("reminders", jst(f"{day}T06:50"))] == "skipped"
    assert statuses[("reminders", jst(f"{day}T07:20"))] == "done"
    assert statuses[("digest", jst(f"{day}T08:30"))] == "done"
    assert statuses[("digest", jst("2030-01-14T08:30"))] == "skipped"
    assert "skipped" in caplog.text and "never finished" in caplog.text
    broadcast = posts(slack, people.broadcast_channel)
    assert len(broadcast) == 2  # ohayo's reminder and the line-up, once each
    assert len(slack.dm_messages(cast["p1"])) == 0 and len(slack.dm_messages(cast["p2"])) == 1


async def test_claimed_but_unsent_is_sent_once_after_a_restart(app, settings, slack, people, cast):
    """The first process queued the reminders and died before sending them or finishing the run."""
    slot = jst("2030-01-15T07:20")
    await job_runs.claim(app.deps.db, team_id=TEAM, job="reminders", slot=slot, owner="dead-host:1")
    app.deps.outbox.kick = lambda: None  # it dies before its outbox sends anything
    await reminders.run(app.deps, slot)
    assert slack.calls_to("chat.postMessage") == []
    restarted = create_app(settings, clock=lambda: jst("2030-01-15T07:25"), team_id=TEAM)
    try:
        await Scheduler(restarted.deps).catch_up(jst("2030-01-15T07:25"))
        await restarted.deps.drain()
        await restarted.deps.outbox.flush()
    finally:
        await restarted.close()
    assert len(posts(slack, people.broadcast_channel)) == 1
    assert len(slack.dm_messages(cast["p2"])) == 1


async def test_two_instances_on_one_database_post_each_slot_once(app, settings, slack, people, cast):
    await subscribe(app, cast["fan"], "asa", "hiru")
    other = create_app(settings, clock=app.clock, team_id=TEAM)
    try:
        first, second = Scheduler(app.deps), Scheduler(other.deps)
        second.owner = "other-host:2"
        now, end = jst("2030-01-16T06:40"), jst("2030-01-16T12:00")  # every 5 minutes, grace 30
        while now <= end:
            app.clock.now = now
            await asyncio.gather(
                *(s.tick(s.jobs[name], now) for s in (first, second) for name in ("digest", "reminders"))
            )
            now += timedelta(minutes=5)
        await asyncio.gather(app.deps.drain(), other.deps.drain())
        await asyncio.gather(app.deps.outbox.flush(), other.deps.outbox.flush())
    finally:
        await other.close()
    # Wednesday 06:40–12:00: reminders for asa, ohayo, hiru (11:50) and the 08:30 line-up.
    assert len(posts(slack, people.broadcast_channel)) == 4
    assert [len(slack.dm_messages(cast[u])) for u in ("p1", "p2", "p3", "fan")] == [1, 1, 1, 2]
    assert len(slack.calls_to("chat.postMessage")) == 4 + 5
