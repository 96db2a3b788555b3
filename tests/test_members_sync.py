"""Backfill: `yakuba members sync` records everyone via paginated users.list, rate-limit aware, DMing no one."""

from __future__ import annotations

import asyncio
import os

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from bot.services.membership import sync_members
from bot.texts import Texts
from storage import members
from storage.models import Member
from tests.conftest import TOKEN
from tests.membership_flow import TEAM


async def count(db, *, left: bool | None = None) -> int:
    query = select(func.count(Member.id)).where(Member.team_id == TEAM)
    if left is not None:
        query = query.where(Member.left_at.is_not(None) if left else Member.left_at.is_(None))
    async with db.read() as session:
        return await session.scalar(query)


async def test_sync_pages_through_everyone_without_dms(signed, people):
    slack, deps = signed.slack, signed.yakuba.deps
    for i in range(430):
        slack.add_user(f"user{i}", f"職員 {i}", deleted=i % 50 == 0)
    robot = slack.add_user("robot")
    slack.ws.users[robot["id"]]["is_bot"] = True
    # Someone recorded as left who is active again, and someone active who has since been deactivated.
    async with deps.db.write() as session:
        await members.join(session, team_id=TEAM, user_id=people.member)
    await members.mark_left(deps.db, team_id=TEAM, user_id=people.member)
    async with deps.db.write() as session:
        await members.join(session, team_id=TEAM, user_id="U00000010")
    slack.rate_limit("users.list", retry_after=1)  # the second page is refused once

    report = await sync_members(deps, team_id=TEAM)
    calls = [c for c in slack.calls_to("users.list") if c.status == 200]
    assert len(calls) == 3 and all(int(c.args["limit"]) == 200 for c in calls)
    assert calls[0].args.get("cursor") in (None, "") and calls[1].args["cursor"]
    total_humans = 2 + 430  # organizer, member + the 430 (bot, app bot and USLACKBOT skipped)
    assert report.seen == total_humans and report.skipped == 3 and report.pages == 3
    assert await count(deps.db) == total_humans
    assert await count(deps.db, left=True) == 9  # user0, user50 … user400
    assert (await members.get(deps.db, team_id=TEAM, user_id=people.member)).left_at is None
    assert await members.get(deps.db, team_id=TEAM, user_id=robot["id"]) is None
    assert slack.calls_to("conversations.open") == [] and slack.calls_to("chat.postMessage") == []

    again = await sync_members(deps, team_id=TEAM)
    assert again.added == 0 and again.changed == 0 and await count(deps.db) == total_humans


async def test_sync_waits_out_a_long_rate_limit(signed, people):
    signed.slack.rate_limit("users.list", retry_after=1, times=7)  # more than the client's own retries
    report = await sync_members(signed.yakuba.deps, team_id=TEAM)
    assert report.rate_waits >= 1 and report.seen == 2


async def test_cli_members_sync(slack, settings, tmp_path):
    for i in range(250):
        slack.add_user(f"u{i}")
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.base_url, "DATABASE_URL": settings.database_url}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = await asyncio.to_thread(CliRunner().invoke, main, ["members", "sync"], env=env)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    synced = Texts("ja", markup=False)("cli.members.synced", seen=252, added=252, changed=0, skipped=2, pages=2)
    assert synced in result.output
    assert slack.calls_to("chat.postMessage") == []
