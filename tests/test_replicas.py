"""Two `yakuba serve` replicas on one database behind one Slack: events split, jobs run in both, all once.

On PostgreSQL (YAKUBA_TEST_POSTGRES) the replicas share one database as in production; on SQLite they share
one file, which the same once-only keys must protect just as well. Scheduled jobs are driven by
`yakuba jobs run NAME --at …` started twice at the same moment, as two schedulers ticking together would.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import datetime

import aiohttp

from bot.app import create_app
from bot.local import requests as req
from bot.services.prefectures import setup_prefectures
from storage import announcements, job_runs, migrate, prefectures
from storage import programs as repo
from storage.program_io import import_programs
from tests.conftest import SECRET, TOKEN
from tests.restart_flow import start
from tests.test_cli import ROOT, env, free_port

TEAM = req.TEAM_ID
DAY = "2030-06-03"  # far ahead, so the replicas' own real-time ticks never reach these slots
AT = {"digest": f"{DAY}T08:30:00+09:00", "reminders": f"{DAY}T11:50:00+09:00", "announcements": f"{DAY}T09:00:00+09:00"}
JOINERS = 24

CATALOGUE = """
programs:
  - name: photo
    title: PHOTO-LABO
    personalities: [{host}]
    start: "12:00"
    duration: 30
    recurrence: {{kind: daily, start_date: {day}, end_date: {day}}}
"""


async def prepare(settings, host: str, fan: str, organizer: str) -> list[str]:
    """Prefecture channels, one programme with a subscriber, and an announcement scheduled for DAY 09:00."""
    yakuba = create_app(settings, team_id=TEAM)
    deps = yakuba.deps
    try:
        await migrate.upgrade(deps.db)
        assert not (await setup_prefectures(deps, team_id=TEAM)).failures
        report = await import_programs(db=deps.db, team_id=TEAM, source=CATALOGUE.format(host=host, day=DAY))
        assert report.ok, report.errors
        program = await repo.get_program(db=deps.db, team_id=TEAM, name="photo")
        await repo.subscribe(db=deps.db, team_id=TEAM, program_id=program.id, user_id=fan)
        channels = [row.channel_id for row in (await prefectures.all_channels(deps.db, team_id=TEAM)).values()]
        draft = await announcements.create_draft(
            deps.db,
            team_id=TEAM,
            user_id=organizer,
            text="庁内放送のお知らせ",
            allow_mentions=False,
            targets={"kind": "all"},
            total=len(channels),
            send_at=datetime.fromisoformat(AT["announcements"]),
        )
        status = await announcements.confirm(
            deps.db, draft=draft, by=organizer, recipients=[("channel", c) for c in channels], now=deps.clock()
        )
        assert status == "scheduled"
        return channels
    finally:
        await yakuba.close()


async def deliver(http: aiohttp.ClientSession, port: int, body: bytes, retry: int = 0) -> None:
    headers = req.sign(body, SECRET) | (
        {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
    )
    async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as response:
        assert response.status == 200


async def job(name: str, environ: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "jobs",
        "run",
        name,
        "--at",
        AT[name],
        cwd=ROOT,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # Eight of these start at once beside two servers on two cores: each Python start imports the whole bot
    # (7-11 s of CPU), so the bound is a hang guard with room for a loaded machine, not a speed goal.
    out, err = await asyncio.wait_for(process.communicate(), 150)
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    return out.decode()


async def until(check, seconds: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "replicas did not finish in time"
        await asyncio.sleep(0.1)


async def test_two_replicas_do_every_welcome_lineup_reminder_and_delivery_once(tmp_path, slack, people, settings):
    host, fan = slack.add_user("photo-host")["id"], slack.add_user("fan")["id"]
    channels = await prepare(settings, host, fan, people.organizer)
    joiners = [slack.add_user(f"new{i:02d}", f"新人 {i}")["id"] for i in range(JOINERS)]
    ports = [free_port(), free_port()]
    base = env(
        tmp_path,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack.base_url,
        DATABASE_URL=settings.database_url,
        YAKUBA_ORGANIZERS=people.organizer,
        YAKUBA_ADMIN_CHANNEL=people.admin_channel,
        YAKUBA_BROADCAST_CHANNEL=people.broadcast_channel,
    )
    replicas = await asyncio.gather(*(start({**base, "PORT": str(port)}, port) for port in ports))
    try:
        async with aiohttp.ClientSession() as http:
            sends = []
            for i, user in enumerate(joiners):
                mine, other = ports[i % 2], ports[(i + 1) % 2]
                body = req.event_body(req.team_join_event(slack.user(user)), event_id=f"EvREPLICA{i:03d}")
                sends.append(deliver(http, mine, body))
                sends.append(deliver(http, other, body, retry=1))  # Slack retried to the other replica
                if i % 3 == 0:  # Slack re-sent the join under a new event_id
                    sends.append(deliver(http, other, req.event_body(req.team_join_event(slack.user(user)))))
            await asyncio.gather(*sends)
        # Two schedulers ticking at once for every job; only the claimer of each slot runs it.
        outputs = await asyncio.gather(*(job(name, base) for name in AT for _ in range(2)))

        async def settled() -> bool:
            done = all(len(slack.dm_messages(u)) >= 1 for u in joiners)
            announced = [m for c in channels for m in slack.messages(c) if m.get("metadata")]
            async with aiohttp.ClientSession() as http:
                for port in ports:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        done = done and (await response.json()).get("outbox_pending") == 0
            return done and len(announced) >= len(channels)

        await until(settled)
        await asyncio.sleep(0.5)  # room for a wrongly doubled send to show up before counting
    finally:
        for process in replicas:
            process.terminate()
        errors = [(await asyncio.wait_for(p.communicate(), 60))[1].decode() for p in replicas]
    assert not [e for e in errors if "Traceback" in e], errors

    assert [len(slack.dm_messages(u)) for u in joiners] == [1] * JOINERS
    for name in AT:
        outcomes = Counter(line.rsplit(" ", 1)[-1] for o in outputs for line in o.splitlines() if line.startswith(name))
        assert outcomes == {"done": 1, "taken": 1}, outputs
    broadcast = slack.messages(people.broadcast_channel)
    assert len([m for m in broadcast if m["blocks"][0]["type"] == "header"]) == 1  # the line-up
    assert len(broadcast) == 2  # the line-up and the reminder
    assert len(slack.dm_messages(host)) == 1 and len(slack.dm_messages(fan)) == 1
    for channel in channels:
        assert len([m for m in slack.messages(channel) if m.get("metadata")]) == 1, channel
    yakuba = create_app(settings, team_id=TEAM)
    try:
        runs = await job_runs.runs(yakuba.deps.db, team_id=TEAM)
    finally:
        await yakuba.close()
    assert sorted((r.job, r.status) for r in runs if r.slot.year == 2030) == [
        ("announcements", "done"),
        ("digest", "done"),
        ("reminders", "done"),
    ]
