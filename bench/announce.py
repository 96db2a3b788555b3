"""Announcement fan-out against Slack's limits: completion time ÷ the lower bound the limits imply, in one run.

Run from the repository root (about 3½ minutes with the defaults, bounded by construction):

    .venv/bin/python -m bench.announce
    .venv/bin/python -m bench.announce --members 2000 --dm-budget 800

Set-up: the real app (`create_app` + `init_web`, as `yakuba serve`) on 127.0.0.1 with a fresh SQLite file,
its Web API pointed at an in-process FakeSlack that enforces 1 chat.postMessage per second per channel and
a workspace budget of N accepted posts in any sliding 60 s window (429 + Retry-After beyond either).
The bot's pacer is told the same N (YAKUBA_ANNOUNCE_PER_MINUTE). An organiser types the quick form over
signed HTTP, presses Send, and the clock runs from that click to the last post the fake accepted.

Lower bound: M posts to M distinct channels, at most N per 60 s window, need at least
floor((M - 1) / N) × 60 s between the first and the last accepted post (the per-channel limit never binds
with one post per channel). The budgets are chosen so the bound is not zero:
  * 47 prefecture channels with N = 24/min   → bound 60 s;
  * 5,000 member DMs      with N = 1,700/min → bound 120 s.
Target: ratio ≤ 1.15. Each target must have exactly one post (checked) and 429s are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time

from aiohttp import ClientSession, web

from bench.common import table
from bot.app import create_app
from bot.blocks import announcements as ui
from bot.config import Settings
from bot.local import requests as req
from bot.server import init_web
from bot.slack.pacer import Pacer
from storage import prefectures
from storage.data import prefectures as all_prefectures
from storage.models import Member
from tests.fake_slack import FakeSlack

SECRET, TOKEN = "bench-secret", "xoxb-bench"


def is_announcement(call) -> bool:
    return bool(call.args.get("metadata"))


async def run_case(slack: FakeSlack, yakuba, base: str, organizer: str, *, text: str, budget: int, count: int):
    slack.enforce_channel_rate(1.0)
    slack.workspace_budget(budget)
    announcer = yakuba.deps.announcer
    announcer.pacer = Pacer(budget)
    before = len(slack.calls)
    baseline = len(slack.calls_to("chat.postMessage", where=lambda c: c.status == 200 and is_announcement(c)))
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
    lower = (count - 1) // budget * 60.0
    await slack.wait_for(
        "chat.postMessage",
        count=count + baseline,
        timeout=lower + 180,
        where=lambda c: c.status == 200 and is_announcement(c),
    )
    calls = [c for c in slack.calls[before:] if c.method == "chat.postMessage" and is_announcement(c)]
    accepted = [c for c in calls if c.status == 200]
    done = max(c.at for c in accepted) - started
    targets = [c.args["channel"] for c in accepted]
    once = len(targets) == len(set(targets)) == count
    await yakuba.deps.drain(timeout=60)
    return {
        "posts": len(accepted),
        "limited": len([c for c in calls if c.status == 429]),
        "seconds": done,
        "lower": lower,
        "ratio": done / lower if lower else float("nan"),
        "once": once,
    }


async def main(args: argparse.Namespace) -> int:
    slack = FakeSlack(tokens=[TOKEN])
    await slack.start()
    organizer = slack.add_user("unei", "運営 花子")["id"]
    members = [slack.add_user(f"m{i:05d}", f"職員 {i}")["id"] for i in range(args.members)]
    with tempfile.TemporaryDirectory(prefix="yakuba-bench-") as tmp:
        settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
            yakuba_organizers=organizer,
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
                session.add_all(
                    Member(team_id=deps.team_id, user_id=u, status="approved", interests=[]) for u in members
                )
            rows = [
                (
                    "47 prefecture channels",
                    await run_case(
                        slack,
                        yakuba,
                        base,
                        organizer,
                        text="all 説明会のお知らせ",
                        budget=args.channel_budget,
                        count=47,
                    ),
                ),
                (
                    f"{args.members:,} member DMs",
                    await run_case(
                        slack,
                        yakuba,
                        base,
                        organizer,
                        text="members 全員へのお知らせ",
                        budget=args.dm_budget,
                        count=args.members,
                    ),
                ),
            ]
        finally:
            await runner.cleanup()
            await slack.stop()
    print(
        table(
            ["case", "budget/min", "posts", "429s", "once", "time s", "bound s", "ratio"],
            [
                [
                    name,
                    budget,
                    r["posts"],
                    r["limited"],
                    "OK" if r["once"] else "FAIL",
                    r["seconds"],
                    r["lower"],
                    r["ratio"],
                ]
                for (name, r), budget in zip(rows, (args.channel_budget, args.dm_budget), strict=True)
            ],
            digits=2,
        )
    )
    ok = all(r["once"] and r["ratio"] <= 1.15 for _, r in rows)
    print(f"target ratio <= 1.15: {'met' if ok else 'NOT met'} (1 msg/s per channel enforced in both cases)")
    return 0 if all(r["once"] for _, r in rows) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--channel-budget", type=int, default=24)
    parser.add_argument("--dm-budget", type=int, default=1700)
    sys.exit(asyncio.run(main(parser.parse_args())))
