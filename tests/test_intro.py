"""Introductions (#18) over signed HTTP: /intro, a round on the schedule claimed once, group DMs, seven rounds
without repeats while possible, the check-in a week later, the organisers' figures, /mydata."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.blocks import intro as ids
from bot.local import requests as req
from bot.services.intro_matching import pair_key
from bot.services.privacy import forget_member
from bot.texts import Texts
from schedules import intro as jobs
from storage import intro, privacy
from storage.directory import government_of
from storage.models import Member, OutboxMessage
from tests.community_flow import add_member, all_text
from tests.membership_flow import TEAM

JST = ZoneInfo("Asia/Tokyo")
NO_REPEAT = 6
# 9 members from 5 governments (2 + 2 + 2 + 2 + 1): 36 - 4 = 32 pairs may meet, 6 are used per round.
GOVERNMENTS = [
    dict(org_type="prefecture", pref="13", muni=None),  # 東京都庁
    dict(org_type="prefecture", pref="13", muni=None),
    dict(org_type="prefecture", pref="27", muni=None),  # 大阪府庁
    dict(org_type="prefecture", pref="27", muni=None),
    dict(org_type="municipality", pref="13", muni="131016"),  # 千代田区
    dict(org_type="municipality", pref="13", muni="131016"),
    dict(org_type="national", pref="13", muni=None),
    dict(org_type="national", pref="13", muni=None),
    dict(org_type="prefecture", pref="01", muni=None),  # 北海道庁
]
# Every other Monday 10:00 from 2026-01-05; Monday 23 November is 勤労感謝の日: the round moves to Tuesday.
FIRST = datetime(2026, 11, 24, 10, 0, tzinfo=JST)
LATER = [datetime(2026, 12, 7, 10, 0, tzinfo=JST) + timedelta(weeks=2 * k) for k in range(6)]


async def reply(response) -> dict:
    assert response.status == 200
    return json.loads(await response.text())


async def nine_members(signed, *, by_command: bool = True) -> dict[str, str]:
    """user id → government key, each opted in through /intro on (or straight in the database: fewer
    requests for tests about what comes after, which the shared machine's load can slow past Slack's 3 s)."""
    texts = signed.yakuba.deps.texts
    governments = {}
    for i, where in enumerate(GOVERNMENTS):
        user = signed.slack.add_user(f"intro{i}", f"紹介 {i}")["id"]
        await add_member(signed, user, name=f"<!channel> 紹介{i}", department=f"課{i}", **where)
        if not by_command:
            await intro.set_optin(signed.yakuba.deps.db, team_id=TEAM, user_id=user, active=True)
        else:
            body = await reply(await signed.command(user, "/intro", "on"))
            assert body["text"] == texts("intro.command.on", preference=texts("intro.preferences.any"))
        governments[user] = government_of(where["org_type"], where["pref"], where["muni"])[0]
    return governments


def pairs_of(groups) -> set[tuple[str, str]]:
    return {pair_key(a, b) for g in groups for a, b in itertools.combinations(g, 2)}


def all_groupings(people: list[str], governments: dict[str, str]):
    """Every way to seat 9 people in three pairs and a trio with no colleagues together (brute force)."""
    for trio in itertools.combinations(people, 3):
        rest = [p for p in people if p not in trio]

        def pairings(left):
            if not left:
                yield []
                return
            first = left[0]
            for other in left[1:]:
                remaining = [p for p in left if p not in (first, other)]
                for tail in pairings(remaining):
                    yield [(first, other), *tail]

        for pairs in pairings(rest):
            groups = [trio, *pairs]
            if all(len({governments[u] for u in g}) == len(g) for g in groups):
                yield groups


def repeat_cost(groups, met: dict[tuple[str, str], int]) -> tuple[int, int]:
    """(pairs met within the window, how recent they were: NO_REPEAT + 1 - rounds ago, summed)."""
    found = [met[p] for p in pairs_of(groups) if p in met and met[p] <= NO_REPEAT]
    return len(found), sum(NO_REPEAT + 1 - age for age in found)


async def group_dms(signed) -> dict[tuple[str, ...], list[dict]]:
    await signed.settle()
    return signed.slack.group_dms()


async def yakuba_cli(tmp_path: Path, settings, *args: str) -> str:
    env = {
        "PATH": "",
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
        "DATABASE_URL": settings.database_url,
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_API_URL": settings.slack_api_url,
    }
    root = Path(__file__).resolve().parent.parent
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env={**env, "PYTHONPATH": str(root)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return out.decode() + err.decode()


@pytest.mark.start("2026-11-20T09:00+09:00")  # before the first round: the start-up catch-up skips nothing
async def test_rounds_pair_across_governments_once_per_slot_and_repeat_only_when_they_must(
    signed, people, settings, tmp_path
):
    governments = await nine_members(signed)
    texts = signed.yakuba.deps.texts
    scheduler = signed.yakuba.scheduler
    holiday = datetime(2026, 11, 23, 10, 0, 30, tzinfo=JST)
    assert await scheduler.tick(jobs.JOB, holiday) == []
    assert await scheduler.tick(jobs.JOB, FIRST + timedelta(seconds=30)) == [(FIRST, "done")]
    # The same slot again, as `yakuba jobs run intro --at …` in another process: taken, nothing sent twice.
    output = await yakuba_cli(tmp_path, settings, "jobs", "run", "intro", "--at", "2026-11-24T10:00:30+09:00")
    assert "taken" in output and "Traceback" not in output, output
    assert await scheduler.tick(jobs.JOB, FIRST + timedelta(seconds=40)) == [(FIRST, "taken")]

    dms = await group_dms(signed)
    assert sorted(len(g) for g in dms) == [2, 2, 2, 3]
    assert sorted(u for g in dms for u in g) == sorted(governments)
    for group, messages in dms.items():
        assert len({governments[u] for u in group}) == len(group)  # nobody with a colleague
        assert len(messages) == 1 and messages[0]["text"] == texts("intro.message.text")
        shown = all_text(messages[0]["blocks"])
        assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown  # names are escaped
        assert texts("intro.message.footer") in shown

    # Six further rounds: no repeat while a grouping without one exists, else the pairs that met longest ago.
    rounds = [sorted(dms)]
    people_ids = sorted(governments)
    for slot in LATER:
        met: dict[tuple[str, str], int] = {}
        for age, groups in enumerate(reversed(rounds), start=1):
            for p in pairs_of(groups):
                met.setdefault(p, age)
        best = min(repeat_cost(g, met) for g in all_groupings(people_ids, governments))
        before = set(signed.slack.group_dms())
        assert await scheduler.tick(jobs.JOB, slot + timedelta(seconds=30)) == [(slot, "done")]
        await signed.settle()
        made = (await intro.history(signed.yakuba.deps.db, team_id=TEAM, before=slot + timedelta(1), rounds=1))[0]
        assert sorted(len(g) for g in made) == [2, 2, 2, 3]
        assert all(len({governments[u] for u in g}) == len(g) for g in made)
        assert repeat_cost(made, met) == best, (slot, made)
        rounds.append(sorted(made))
        # A group that met before reuses its DM; every group got this round's introduction.
        dms = signed.slack.group_dms()
        assert all(len(dms[tuple(g)]) >= 1 for g in made) and set(dms) >= before
    seen = [pairs_of(g) for g in rounds]
    assert len(set().union(*seen)) <= 32 < sum(len(s) for s in seen)  # some round had to repeat


@pytest.mark.start("2026-11-20T09:00+09:00")  # before the first round: the start-up catch-up skips nothing
async def test_checkin_a_week_later_feeds_the_organisers_figures(signed, people):
    governments = await nine_members(signed, by_command=False)
    texts = signed.yakuba.deps.texts
    scheduler = signed.yakuba.scheduler
    await scheduler.tick(jobs.JOB, FIRST + timedelta(seconds=30))
    await signed.settle()
    # Six days later nobody is asked; a week later each member is asked once, in their own DM.
    assert await scheduler.tick(jobs.CHECKIN_JOB, datetime(2026, 11, 30, 10, 0, 30, tzinfo=JST))
    await signed.settle()
    assert all(signed.slack.dm_messages(u) == [] for u in governments)
    week = datetime(2026, 12, 1, 10, 0, 30, tzinfo=JST)
    assert [o for _, o in await scheduler.tick(jobs.CHECKIN_JOB, week)] == ["done"]
    await scheduler.tick(jobs.CHECKIN_JOB, week + timedelta(days=1))  # the next day asks nobody again
    await signed.settle()
    asked = {u: signed.slack.dm_messages(u) for u in governments}
    assert all(len(m) == 1 and m[0]["text"] == texts("intro.checkin.text") for m in asked.values())

    first, second, third = sorted(governments)[:3]
    for user, answer in ((first, "met"), (second, "met"), (third, "pass")):
        message = asked[user][0]
        button = next(e for e in message["blocks"][1]["elements"] if e["action_id"].endswith(f".{answer}"))
        # Someone else's click on this seat changes nothing.
        other = sorted(governments)[-1]
        await signed.action(
            other, button["action_id"], button["value"], channel_id=signed.slack.dm_channel(user), message=message
        )
        await signed.settle()
        await signed.action(
            user, button["action_id"], button["value"], channel_id=signed.slack.dm_channel(user), message=message
        )
        await signed.settle()
    assert signed.slack.ephemerals(sorted(governments)[-1])[-1]["text"] == texts("intro.checkin.gone")

    body = await reply(await signed.command(people.organizer, "/members", "stats"))
    shown = all_text(body["blocks"])
    assert texts("intro.stats.line", when="2026-11-24", groups=4, eligible=9, met=2, answered=3) in shown
    assert texts("intro.stats.met_rate", rate=67, answered=3) in shown
    member_view = all_text((await reply(await signed.command(first, "/members", "stats")))["blocks"])
    assert texts("intro.stats.title") not in member_view  # organisers' figures only


@pytest.mark.start("2026-11-20T09:00+09:00")  # before the first round: the start-up catch-up skips nothing
async def test_only_approved_members_still_here_and_not_paused_are_introduced(signed, people):
    texts = signed.yakuba.deps.texts
    users = {}
    for i, status in enumerate(("approved", "approved", "approved", "pending", "approved", "approved")):
        user = signed.slack.add_user(f"m{i}", f"M {i}")["id"]
        await add_member(signed, user, status=status, org_type="prefecture", pref=f"{i + 1:02d}", muni=None)
        users[i] = user
    body = await reply(await signed.command(users[3], "/intro", "on"))
    assert body["text"] == texts("intro.command.not_member")
    for i in (0, 1, 2, 4, 5):
        await signed.command(users[i], "/intro", "on")
    await signed.command(users[4], "/intro", "off")  # paused
    body = await reply(await signed.command(users[4], "/intro", "status"))
    assert body["text"] == texts("intro.command.status_off")
    body = await reply(await signed.command(users[0], "/intro", "status"))
    nxt = texts("intro.command.next", when="2026-11-24 10:00")
    assert body["text"] == texts("intro.command.status_on", preference=texts("intro.preferences.any"), next=nxt)
    async with signed.yakuba.deps.db.write() as session:  # left the community
        await session.execute(update(Member).where(Member.user_id == users[5]).values(left_at=signed.clock()))
    await signed.yakuba.scheduler.tick(jobs.JOB, FIRST + timedelta(seconds=30))
    dms = await group_dms(signed)
    assert sorted(u for g in dms for u in g) == sorted([users[0], users[1], users[2]])


@pytest.mark.start("2026-11-20T09:00+09:00")  # before the first round: the start-up catch-up skips nothing
async def test_mydata_exports_and_forgets_introductions(signed, people):
    governments = await nine_members(signed, by_command=False)
    await signed.yakuba.scheduler.tick(jobs.JOB, FIRST + timedelta(seconds=30))
    await signed.settle()
    user = sorted(governments)[0]
    data = await privacy.collect(signed.yakuba.deps.db, team_id=TEAM, user_id=user)
    assert data["introductions"]["optin"]["active"] is True
    assert len(data["introductions"]["rounds"]) == 1 and data["introductions"]["rounds"][0]["with"]
    await forget_member(signed.yakuba.deps, team_id=TEAM, user_id=user)
    data = await privacy.collect(signed.yakuba.deps.db, team_id=TEAM, user_id=user)
    assert data["introductions"] == {"optin": None, "rounds": []}
    assert await intro.optin(signed.yakuba.deps.db, team_id=TEAM, user_id=user) is None
    async with signed.yakuba.deps.db.read() as session:
        targets = list(await session.scalars(select(OutboxMessage.target).where(OutboxMessage.key.startswith("intro"))))
    assert all(user not in t for t in targets)


def test_every_catalogue_key_the_feature_names_exists_in_both_languages():
    # YAML reads a bare `on:` / `off:` key as a boolean: a key that is not there would show users its own name.
    root = Path(__file__).resolve().parent.parent
    call = r"(?:texts|narrate)\(\s*\"(intro\.[a-z_.]+)\""
    sources = ["bot/blocks/intro.py", "handlers/intro.py", "handlers/home.py", "bot/local/demo/intro.py"]
    keys = {k for path in sources for k in re.findall(call, (root / path).read_text("utf-8"))}
    keys |= {f"intro.{group}.{word}" for group in ("command", "home") for word in ("on", "off")}
    keys |= {f"intro.checkin.{answer}" for answer in intro.CHECKINS} | {
        f"intro.preferences.{p}" for p in intro.PREFERENCES
    }
    assert len(keys) > 20
    for lang in ("ja", "en"):
        missing = sorted(k for k in keys if not Texts(lang).has(k))
        assert not missing, (lang, missing)


async def test_app_home_joins_pauses_and_keeps_the_preference(signed, people):
    texts = signed.yakuba.deps.texts
    await add_member(signed, people.member)
    await signed.event(req.app_home_opened_event(people.member))
    await signed.settle()
    view = signed.slack.home_view(people.member)
    shown = all_text(view["blocks"])
    assert texts("intro.home.off") in shown and texts("intro.home.join") in shown  # opt-in, never default
    await signed.action(people.member, ids.HOME_JOIN, "join", view=view)
    await signed.settle()
    row = await intro.optin(signed.yakuba.deps.db, team_id=TEAM, user_id=people.member)
    assert row is not None and row.active and row.preference == "any"
    view = signed.slack.home_view(people.member)
    option = {"text": {"type": "plain_text", "text": texts("intro.preferences.same_pref")}, "value": "same_pref"}
    await signed.post(
        req.block_actions_body(user_id=people.member, action_id=ids.HOME_PREFERENCE, selected_option=option, view=view)
    )
    await signed.settle()
    shown = all_text(signed.slack.home_view(people.member)["blocks"])
    assert texts("intro.home.on", preference=texts("intro.preferences.same_pref")) in shown
    await signed.action(people.member, ids.HOME_PAUSE, "pause", view=signed.slack.home_view(people.member))
    await signed.settle()
    row = await intro.optin(signed.yakuba.deps.db, team_id=TEAM, user_id=people.member)
    assert not row.active and row.preference == "same_pref"
    # Someone not (yet) approved cannot join from the tab either.
    stranger = signed.slack.add_user("stranger", "S")["id"]
    await add_member(signed, stranger, status="pending")
    await signed.action(stranger, ids.HOME_JOIN, "join", view=view)
    await signed.settle()
    assert await intro.optin(signed.yakuba.deps.db, team_id=TEAM, user_id=stranger) is None
