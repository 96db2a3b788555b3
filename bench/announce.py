"""Announcement fan-out against Slack's limits: completion time ÷ the lower bound the limits imply, in one run.

Run from the repository root (about 4 minutes with the defaults, bounded by construction):

    .venv/bin/python -m bench.announce                 # learned rate: workspaces allowing 1, 5, 20, 50 posts/s
    .venv/bin/python -m bench.announce --limits 2 35   # other workspace limits
    .venv/bin/python -m bench.announce --window        # the sliding-window cap (YAKUBA_ANNOUNCE_PER_MINUTE)

Set-up: the real app (`create_app` + `init_web`, as `yakuba serve`) on 127.0.0.1 with a fresh SQLite file,
its Web API pointed at an in-process FakeSlack that enforces 1 chat.postMessage per second per channel. An
organiser types the quick form over signed HTTP, presses Send, and the clock runs from that click to the last
post the fake accepted. Each target must have exactly one post (checked) and 429s are counted.

Learned rate (default): the fake's workspace limit is a token bucket of R posts/s with a burst of R/2 (the
issue's example: 20/s, burst 10), unknown to the bot. Each limit gets a fresh app and database and two
broadcasts to M = max(47, R/2 + 10 R) member DMs: "cold" (nothing remembered: the pacer starts at 10/s and
learns) and "warm" (the next broadcast, starting from the rate the first stored). The bot's window cap
(YAKUBA_ANNOUNCE_PER_MINUTE) is set to 6,000 so it does not bind. Lower bound: the burst at once, then one post
per 1/R s: (M - R/2) / R seconds (about 10 s). Target: ratio ≤ 1.3 and at most 5 % of posts answered 429.
"no limit s" is the same broadcast with no workspace limit at all (run first, then forgotten): when it is near
or above the bound, the machine, not the pacer, sets the pace.

Window (--window): the fake allows N accepted posts in any sliding 60 s window, and the bot is told the same N.
M posts to M distinct channels need at least floor((M - 1) / N) × 60 s between the first and the last:
  * 47 prefecture channels with N = 24/min   → bound 60 s;
  * 5,000 member DMs      with N = 1,700/min → bound 120 s.
Target: ratio ≤ 1.15.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from contextlib import asynccontextmanager

from aiohttp import ClientSession, web
from sqlalchemy import delete

from bench.common import table
from bot.app import create_app
from bot.blocks import announcements as ui
from bot.config import Settings
from bot.local import requests as req
from bot.server import init_web
from bot.slack.pacer import Pacer
from storage import prefectures, send_rates
from storage.data import prefectures as all_prefectures
from storage.models import Member, SendRate
from tests.fake_slack import FakeSlack

SECRET, TOKEN = "bench-secret", "xoxb-bench"


def is_announcement(call) -> bool:
    return bool(call.args.get("metadata"))


async def run_case(slack: FakeSlack, yakuba, base: str, organizer: str, *, text: str, count: int, lower: float):
    """One broadcast from the click to its last accepted post; the caller has set the fake's limits."""
    before = len(slack.calls)
    # Count accepted posts as they arrive (slack.wait_for would rescan the whole call log on every call).
    all_posted, posted = asyncio.Event(), [0]

    def count_post(call) -> None:
        if call.method == "chat.postMessage" and call.status == 200 and is_announcement(call):
            posted[0] += 1
            if posted[0] >= count:
                all_posted.set()

    unsubscribe = slack.on_call(count_post)
    async with ClientSession() as http:
        url = slack.new_response_url(channel="C0GENERAL", user=organizer)
        body = req.command_body("/announce", text, user_id=organizer, channel_id="C0GENERAL", response_url=url)
        async with http.post(f"{base}/slack/events", data=body, headers=req.sign(body, SECRET)) as response:
            assert response.status == 200
        [shown] = await slack.wait_for_response(where=lambda c: ui.SEND in json.dumps(c.args), timeout=60)
        value = next(
            e["value"] for b in shown.args["blocks"] for e in b.get("elements", []) if e.get("action_id") == ui.SEND
        )
        slack.responses.clear()
        click = req.block_actions_body(
            user_id=organizer,
            action_id=ui.SEND,
            value=value,
            channel_id="C0GENERAL",
            response_url=slack.new_response_url(),
        )
        started = time.time()
        async with http.post(f"{base}/slack/events", data=click, headers=req.sign(click, SECRET)) as response:
            assert response.status == 200
    await asyncio.wait_for(all_posted.wait(), lower + 180)
    unsubscribe()
    calls = [c for c in slack.calls[before:] if c.method == "chat.postMessage" and is_announcement(c)]
    accepted = [c for c in calls if c.status == 200]
    done = max(c.at for c in accepted) - started
    targets = [c.args["channel"] for c in accepted]
    once = len(targets) == len(set(targets)) == count
    await yakuba.deps.drain(timeout=60)
    return {
        "posts": len(accepted),
        "limited": len([c for c in calls if c.status == 429]),
        "share": len([c for c in calls if c.status == 429]) / max(1, len(calls)),
        "seconds": done,
        "lower": lower,
        "ratio": done / lower if lower else float("nan"),
        "once": once,
    }


@asynccontextmanager
async def running(members: int, per_minute: int | None = None):
    """The app as `yakuba serve` runs it, on a fresh database with the 47 prefecture channels and `members`."""
    slack = FakeSlack(tokens=[TOKEN])
    await slack.start()
    organizer = slack.add_user("unei", "運営 花子")["id"]
    users = [slack.add_user(f"m{i:05d}", f"職員 {i}")["id"] for i in range(members)]
    with tempfile.TemporaryDirectory(prefix="yakuba-bench-") as tmp:
        extra = {} if per_minute is None else {"yakuba_announce_per_minute": per_minute}
        settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
            yakuba_organizers=organizer,
            **extra,
        )
        yakuba = create_app(settings)
        runner = web.AppRunner(init_web(yakuba), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            deps = yakuba.deps
            for p in all_prefectures():
                channel = slack.add_channel(f"kenjinkai-{p.code}-{p.romaji}")
                await prefectures.record(
                    deps.db, team_id=deps.team_id, pref_code=p.code, channel_id=channel["id"], name=channel["name"]
                )
            async with deps.db.write() as session:
                session.add_all(Member(team_id=deps.team_id, user_id=u, status="approved", interests=[]) for u in users)
            yield slack, yakuba, base, organizer
        finally:
            await runner.cleanup()
            await slack.stop()


async def rate_cases(args: argparse.Namespace) -> int:
    rows, met, once = [], True, True
    for limit in args.limits:
        burst = max(1, limit // 2)
        count = max(47, burst + 10 * limit)
        lower = (count - burst) / limit
        async with running(count, per_minute=6000) as (slack, yakuba, base, organizer):
            slack.enforce_channel_rate(1.0)
            # The same broadcast with no workspace limit: how fast this app on this machine sends at all.
            slack.workspace_rate(None)
            alone = await run_case(
                slack, yakuba, base, organizer, text="members 計測のお知らせ", count=count, lower=lower
            )
            async with yakuba.deps.db.write() as session:
                await session.execute(delete(SendRate))  # forget what that taught the pacer
            await asyncio.sleep(1.1)  # the per-channel second between two broadcasts' DMs
            for run in ("cold", "warm"):
                slack.workspace_rate(limit, burst=burst)  # a full bucket, as after a quiet spell
                r = await run_case(
                    slack, yakuba, base, organizer, text=f"members {run} のお知らせ", count=count, lower=lower
                )
                stored = await send_rates.remembered(yakuba.deps.db, team_id=yakuba.deps.team_id)
                rows.append([f"{limit}/s burst {burst}", run, *_cells(r), alone["seconds"], stored])
                met = met and r["ratio"] <= 1.3 and r["share"] <= 0.05
                once = once and r["once"]
                await asyncio.sleep(1.1)
    print(
        table(
            [
                "workspace limit",
                "run",
                "posts",
                "429s",
                "429 %",
                "once",
                "time s",
                "bound s",
                "ratio",
                "no limit s",
                "learned/s",
            ],
            rows,
            digits=2,
        )
    )
    print(f"target (first and remembered) ratio <= 1.3 and <= 5 % answered 429: {'met' if met else 'NOT met'}")
    return 0 if once else 1


def _cells(r: dict) -> list:
    return [
        r["posts"],
        r["limited"],
        100 * r["share"],
        "OK" if r["once"] else "FAIL",
        r["seconds"],
        r["lower"],
        r["ratio"],
    ]


async def window_cases(args: argparse.Namespace) -> int:
    rows = []
    async with running(args.members) as (slack, yakuba, base, organizer):
        slack.enforce_channel_rate(1.0)
        for name, text, budget, count in (
            ("47 prefecture channels", "all 説明会のお知らせ", args.channel_budget, 47),
            (f"{args.members:,} member DMs", "members 全員へのお知らせ", args.dm_budget, args.members),
        ):
            slack.workspace_budget(budget)
            yakuba.deps.announcer.pacer = Pacer(budget)
            lower = (count - 1) // budget * 60.0
            r = await run_case(slack, yakuba, base, organizer, text=text, count=count, lower=lower)
            rows.append([name, budget, *_cells(r)])
    print(table(["case", "budget/min", "posts", "429s", "429 %", "once", "time s", "bound s", "ratio"], rows, digits=2))
    ok = all(r[-1] <= 1.15 and r[5] == "OK" for r in rows)
    print(f"target ratio <= 1.15: {'met' if ok else 'NOT met'} (1 msg/s per channel enforced in both cases)")
    return 0 if all(r[5] == "OK" for r in rows) else 1


async def main(args: argparse.Namespace) -> int:
    return await (window_cases(args) if args.window else rate_cases(args))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limits", type=int, nargs="+", default=[1, 5, 20, 50], help="workspace posts/s")
    parser.add_argument("--window", action="store_true", help="the sliding-window cases instead")
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--channel-budget", type=int, default=24)
    parser.add_argument("--dm-budget", type=int, default=1700)
    sys.exit(asyncio.run(main(parser.parse_args())))
