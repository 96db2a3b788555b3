"""Faults at both edges: Slack answers 429/5xx/timeouts/drops/error codes, the database locks or goes away.

Each must be retried, recorded or reported; no member, delivery or occurrence may be lost or doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.app import create_app
from bot.local import requests as req
from bot.server import init_web
from schedules import digest, reminders
from schedules.scheduler import Scheduler
from storage import programs as repo
from storage.models import Member, OutboxMessage
from storage.program_io import import_programs
from tests.announce_flow import all_prefecture_channels, announce, latest
from tests.conftest import TOKEN, SignedSlack
from tests.fake_slack import Fault, client_for

TEAM = req.TEAM_ID


@pytest.fixture
async def bot(aiohttp_client, settings, slack, clock):
    """The real app over signed HTTP, with a short Slack timeout and a clock the test moves."""
    yakuba = create_app(settings.model_copy(update={"yakuba_slack_timeout": 0.5}), clock=clock)
    signed = SignedSlack(http=await aiohttp_client(init_web(yakuba)), yakuba=yakuba, slack=slack, clock=clock)
    return signed


async def until(check, seconds: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def retry_later(bot) -> None:
    """Past every backoff: what a later outbox tick would find due, sent now."""
    await bot.settle()
    bot.clock.advance(timedelta(hours=1))
    await bot.yakuba.deps.outbox.flush()
    await bot.settle()


async def through_retries(bot, check, *holds: Fault, rounds: int = 6) -> None:
    """Until `check()` holds, what the outbox's later ticks would do, each only once the held calls have landed.

    On a loaded machine any send may pass the 0.5 s deadline, not only the held one; it is retried like the others.
    A retry while a held post is still on its way would find nothing in the history and post twice, so each round
    waits out the holds first (a real tick comes minutes later).
    """
    for _ in range(rounds):
        await bot.settle()  # every send in flight has finished or passed its deadline
        for hold in holds:
            if hold.arrived.is_set():
                await asyncio.wait_for(hold.answered.wait(), hold.seconds + 10)
        await retry_later(bot)  # also settles the rows whose post landed after its deadline
        if check():
            return
    assert check(), f"not delivered after {rounds} rounds of retries"


async def outbox_rows(bot) -> dict[str, tuple[str, str | None]]:
    async with bot.yakuba.deps.db.read() as session:
        rows = await session.scalars(select(OutboxMessage))
        return {r.key: (r.status, r.last_error) for r in rows}


async def test_welcome_dms_through_429_storms_5xx_drops_timeouts_and_error_codes(bot, slack):
    names = ("storm", "broken", "dropped", "slow", "gone", "inactive")
    users = {name: slack.add_user(name)["id"] for name in names}
    client = client_for(slack, token=TOKEN)
    dm = {name: (await client.conversations_open(users=users[name]))["channel"]["id"] for name in ("slow", "inactive")}
    # Targeted faults first: the untargeted ones below must never be used up by these.
    slack.error("conversations.open", "user_not_found", times=None, where={"users": users["gone"]})
    slack.error("chat.postMessage", "account_inactive", times=None, where={"channel": dm["inactive"]})
    # Beyond the 0.5 s client timeout: the post lands, its answer is lost.
    slow = slack.delay("chat.postMessage", 1.5, where={"channel": dm["slow"]})
    slack.rate_limit("chat.postMessage", retry_after=1, times=2)
    slack.fail("chat.postMessage", status=503)
    slack.fail("chat.postMessage", status=502)
    slack.drop("conversations.open")
    slack.drop("chat.postMessage")
    for i, user in enumerate(users.values()):
        body = req.event_body(req.team_join_event(slack.user(user)), event_id=f"EvFAULT{i}")
        assert (await bot.post(body)).status == 200
    delivered = [users[n] for n in ("storm", "broken", "dropped", "slow")]
    await through_retries(bot, lambda: all(slack.dm_messages(u) for u in delivered), slow)
    assert [len(slack.dm_messages(u)) for u in delivered] == [1, 1, 1, 1]
    assert not slack.dm_messages(users["gone"]) and not slack.dm_messages(users["inactive"])
    rows = await outbox_rows(bot)
    assert rows[f"welcome:{users['gone']}"] == ("failed", "user_not_found")
    assert rows[f"welcome:{users['inactive']}"] == ("failed", "account_inactive")
    assert [rows[f"welcome:{u}"][0] for u in delivered] == ["sent"] * 4
    async with bot.yakuba.deps.db.read() as session:
        assert len((await session.scalars(select(Member.user_id))).all()) == len(names)  # nobody lost


CATALOGUE = """
programs:
  - name: photo
    title: PHOTO-LABO
    personalities: [{host}]
    start: "12:00"
    duration: 30
    channel: {archived}
    recurrence: {{kind: daily, start_date: 2030-06-03, end_date: 2030-06-03}}
  - name: radio
    title: 庁内ラジオ
    personalities: [{host}]
    start: "12:00"
    duration: 30
    recurrence: {{kind: daily, start_date: 2030-06-03, end_date: 2030-06-03}}
"""


async def test_lineup_and_reminders_through_faults_each_once(bot, slack, people):
    deps = bot.yakuba.deps
    host, fan = slack.add_user("host")["id"], slack.add_user("fan")["id"]
    archived = slack.add_channel("photo-labo")["id"]
    report = await import_programs(db=deps.db, team_id=TEAM, source=CATALOGUE.format(host=host, archived=archived))
    assert report.ok, report.errors
    radio = await repo.get_program(db=deps.db, team_id=TEAM, name="radio")
    await repo.subscribe(db=deps.db, team_id=TEAM, program_id=radio.id, user_id=fan)
    broadcast = people.broadcast_channel
    slack.error("chat.postMessage", "is_archived", times=None, where={"channel": archived})
    slack.fail("chat.postMessage", status=500, where={"channel": broadcast})
    slow = slack.delay("chat.postMessage", 1.5, where={"channel": broadcast})
    slack.rate_limit("chat.postMessage", retry_after=1, times=2)
    one, two = Scheduler(deps), Scheduler(deps)
    for job, at in ((digest.JOB, "2030-06-03T08:30+09:00"), (reminders.JOB, "2030-06-03T11:50+09:00")):
        slot = datetime.fromisoformat(at)
        outcomes = await asyncio.gather(one.run_slot(job, slot), two.run_slot(job, slot))
        assert sorted(outcomes) == ["done", "taken"]
    await through_retries(bot, lambda: len(slack.messages(broadcast)) == 2 and slack.dm_messages(fan), slow)
    posts = slack.messages(broadcast)
    assert len(posts) == 2 and posts[0]["blocks"][0]["type"] == "header"  # one line-up, one reminder
    assert len(slack.dm_messages(host)) == 2 and len(slack.dm_messages(fan)) == 1
    assert not slack.messages(archived)
    failed = {k: v for k, v in (await outbox_rows(bot)).items() if v[0] != "sent"}
    assert list(failed.values()) == [("failed", "is_archived")]  # recorded, not retried forever


async def test_announcement_targets_through_faults_each_once_and_reported(bot, slack, people):
    channels = await all_prefecture_channels(bot)
    slack.error("chat.postMessage", "not_in_channel", where={"channel": channels["13"]})  # joins, then posts
    slack.error("chat.postMessage", "is_archived", times=None, where={"channel": channels["27"]})
    slack.error("chat.postMessage", "channel_not_found", times=None, where={"channel": channels["01"]})
    slack.rate_limit("chat.postMessage", retry_after=1, where={"channel": channels["14"]})
    slack.fail("chat.postMessage", status=503, where={"channel": channels["40"]})
    slack.delay("chat.postMessage", 1.5, where={"channel": channels["23"]})
    await announce(bot, people.organizer, "all 台風の備えを共有してください")
    for _ in range(20):  # each round: past every backoff, then the worker sends what is due
        if (await latest(bot)).status == "done":
            break
        bot.clock.advance(timedelta(minutes=10))
        bot.yakuba.deps.announcer.kick()
        await bot.settle()
    assert (await latest(bot)).status == "done"
    await retry_later(bot)
    for code, channel in channels.items():
        expected = 0 if code in ("27", "01") else 1
        assert len([m for m in slack.messages(channel) if m.get("metadata")]) == expected, code
    texts = bot.yakuba.deps.texts
    title = texts("announcements.report.title", id="")[:4]
    [report] = [m for m in slack.dm_messages(people.organizer) if title in m["text"]]
    assert "45/47" in str(report["blocks"])


async def test_events_wait_out_a_locked_sqlite_database(bot, slack, settings):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite's lock; PostgreSQL's outage is the next test")
    user = slack.add_user("patient")["id"]
    assert (await bot.http.get("/healthz")).status == 200  # migrated, and the WAL file exists
    path = settings.database_url.split("///", 1)[1]
    await bot.settle()  # the start's own writes are done
    locker = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    # Waited for off the loop: a write the app has begun commits only if its loop runs meanwhile.
    await asyncio.to_thread(locker.execute, "BEGIN EXCLUSIVE")
    try:
        body = req.event_body(req.team_join_event(slack.user(user)), event_id="EvLOCKED")
        response = await asyncio.wait_for(bot.post(body), 2)  # the ack does not wait for the lock
        assert response.status == 200
        await asyncio.sleep(1.0)  # the lock is held this long, on purpose
        assert not slack.dm_messages(user)
    finally:
        locker.rollback()
        locker.close()
    await until(lambda: slack.dm_messages(user))
    await bot.settle()
    assert len(slack.dm_messages(user)) == 1


class Proxy:
    """A TCP forwarder to PostgreSQL that the test can take down (closing every connection) and bring back."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        self.server.close()
        await self.server.wait_closed()
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_postgres_outage_healthz_503_then_200_and_no_event_lost(aiohttp_client, settings, slack, clock):
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() != "postgresql":
        pytest.skip("a PostgreSQL outage needs PostgreSQL (YAKUBA_TEST_POSTGRES); SQLite's lock is tested above")
    proxy = Proxy(url.host, url.port)
    await proxy.up()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    yakuba = create_app(settings.model_copy(update={"database_url": proxied}), clock=clock)
    bot = SignedSlack(http=await aiohttp_client(init_web(yakuba)), yakuba=yakuba, slack=slack, clock=clock)
    user = slack.add_user("during-outage")["id"]
    assert (await bot.http.get("/healthz")).status == 200
    await proxy.down()
    try:
        assert (await bot.http.get("/healthz")).status == 503
        body = req.event_body(req.team_join_event(slack.user(user)), event_id="EvOUTAGE")
        assert (await bot.post(body)).status == 200  # acked: from here on, only we can keep it
        await asyncio.sleep(1.0)  # the outage lasts this long, on purpose
    finally:
        await proxy.up()
    await until(lambda: slack.dm_messages(user), 30)
    assert (await bot.http.get("/healthz")).status == 200
    await bot.settle()
    assert len(slack.dm_messages(user)) == 1
    await proxy.down()  # the app's pool is closed by the fixture; the links go with it
