"""Leases name their holder; a process starting on a host takes over at once what its dead predecessor held (#20, 3).

No lease here runs out by itself (they end in 2999): whatever is sent was taken over, not waited for.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime

from sqlalchemy import select, update

from bot.app import create_app
from bot.local import requests as req
from bot.server import init_web
from bot.slack import leases
from bot.slack.leases import Holder
from storage import announcement_deliveries, announcements, inbox, migrate, outbox
from storage import leases as store
from storage.models import AnnouncementDelivery, InboxItem, OutboxMessage
from tests.conftest import quiet_ticker

TEAM = req.TEAM_ID
NEVER = datetime(2999, 1, 1, tzinfo=UTC)
JSON = "application/json"


async def dead_pid() -> int:
    """The pid of a process of this host that has ended (and been reaped)."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await process.wait()
    return process.pid


async def test_a_holder_is_gone_only_when_it_is_a_dead_process_or_an_earlier_us_on_this_host():
    me = leases.me()
    assert Holder.parse(str(me)) == me
    assert leases.gone(f"{me.host}:{await dead_pid()}:0a1b2c3d")  # ended
    assert leases.gone(f"{me.host}:{me.pid}:{'0' * 8}")  # our pid, another start: we are its restart
    assert not leases.gone(str(me))  # ourselves
    assert not leases.gone(f"{me.host}:{os.getppid()}:0a1b2c3d")  # alive on this host: another replica
    assert not leases.gone(f"elsewhere:{await dead_pid()}:0a1b2c3d")  # another host is never judged from here
    assert not leases.gone(None) and not leases.gone("") and not leases.gone("no-pid-here")


async def until(check, seconds: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def lease(db, model, row_id: int, holder: str) -> None:
    values = {"locked_until": NEVER, "holder": holder}
    if model is not InboxItem:
        values |= {"status": "sending", "attempts": 1}
    async with db.write() as session:
        await session.execute(update(model).where(model.id == row_id).values(**values))


async def test_a_restarted_process_sends_what_its_dead_predecessor_held_at_once(
    aiohttp_client, settings, slack, clock, people
):
    me = leases.me()
    dead = f"{me.host}:{await dead_pid()}:0a1b2c3d"
    earlier_us = f"{me.host}:{me.pid}:{'0' * 8}"
    alive_elsewhere = f"elsewhere:{me.pid}:0a1b2c3d"
    a, b, c = (slack.add_channel(f"leased-{n}", members=[req.BOT_USER_ID])["id"] for n in "abc")
    welcomed, joined = slack.add_user("welcomed")["id"], slack.add_user("joined")["id"]

    # What a killed process left: rows leased "forever" by it, and one row a live replica elsewhere holds.
    before = create_app(settings, team_id=TEAM, clock=clock)
    db = before.deps.db
    try:
        await migrate.upgrade(db)
        draft = await announcements.create_draft(
            db, team_id=TEAM, user_id=people.organizer, text="引き継ぎのお知らせ", allow_mentions=False,
            targets={"kind": "channels", "channels": [a, b, c]}, total=3,
        )  # fmt: skip
        recipients = [("channel", a), ("channel", b), ("channel", c)]
        assert await announcements.confirm(db, draft=draft, by=people.organizer, recipients=recipients, now=clock())
        rows = {row.target: row.id for row in await announcement_deliveries.deliveries(db, announcement_id=draft.id)}
        await lease(db, AnnouncementDelivery, rows[a], dead)
        await lease(db, AnnouncementDelivery, rows[b], alive_elsewhere)  # c stays pending
        async with db.write() as session:
            await outbox.enqueue(
                session,
                team_id=TEAM,
                key=f"welcome:{welcomed}",
                kind="dm",
                target=welcomed,
                payload={"text": "ようこそ"},
            )
            body = req.event_body(req.team_join_event(slack.user(joined)), event_id="EvHELD").decode()
            session.add(
                InboxItem(
                    **inbox.row(team_id=TEAM, key="EvHELD", kind="event", body=body, content_type=JSON, now=clock())
                )
            )
        async with db.read() as session:
            dm = await session.scalar(select(OutboxMessage.id))
            held = await session.scalar(select(InboxItem.id))
        await lease(db, OutboxMessage, dm, earlier_us)
        await lease(db, InboxItem, held, dead)
        assert await store.holders(db, team_id=TEAM) == {dead, earlier_us, alive_elsewhere}
    finally:
        await before.close()

    # The restart (as `yakuba serve` starts): no clock moves, no maintenance tick.
    after = quiet_ticker(create_app(settings, clock=clock))
    await aiohttp_client(init_web(after))
    await slack.wait_for("chat.postMessage", count=2, where=lambda call: call.args.get("metadata"), timeout=15)
    await slack.wait_for("chat.postMessage", where={"text": "ようこそ"}, timeout=15)
    await slack.wait_for("conversations.open", where={"users": joined}, timeout=15)
    await slack.wait_for(
        "chat.postMessage", count=2, where=lambda call: call.args.get("channel", "").startswith("D"), timeout=15
    )

    assert [len([m for m in slack.messages(ch) if m.get("metadata")]) for ch in (a, b, c)] == [1, 0, 1]
    assert len(slack.dm_messages(welcomed)) == 1 and len(slack.dm_messages(joined)) == 1

    async def recorded() -> bool:  # Slack has the DM; its row says so once the sender's write commits
        async with after.deps.db.read() as session:
            return (await session.get(OutboxMessage, dm)).status == "sent"

    await until(recorded)
    async with after.deps.db.read() as session:
        still = await session.get(AnnouncementDelivery, rows[b])
        assert (still.status, still.holder) == ("sending", alive_elsewhere)  # a live holder keeps its rows

    # The replica elsewhere finishes its row: the announcement is done and reported once.
    async with after.deps.db.write() as session:
        await session.execute(
            update(AnnouncementDelivery).where(AnnouncementDelivery.id == rows[b]).values(**sent_elsewhere())
        )
    after.deps.announcer.kick()
    title = after.deps.texts("announcements.report.title", id=draft.id)
    await slack.wait_for("chat.postMessage", where=lambda call: title in str(call.args.get("text")), timeout=15)


def sent_elsewhere() -> dict:
    return announcement_deliveries.sent("C0ELSEWHERE", "1.000001")
