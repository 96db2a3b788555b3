"""Events at scale: post 47 events (one per 県人会 channel) and keep their seat counts current while 1,000 members
sign up, against the fake Slack on loopback. (bench/events.py is about Slack's events; this one is about ours.)

Run from the repository root (bounded by --budget, about a minute with the defaults):

    .venv/bin/python -m bench.events_signup
    .venv/bin/python -m bench.events_signup --members 2000 --concurrency 40 --capacity 30

Set-up: the real app (`create_app` + `init_web`, as `yakuba serve`) on 127.0.0.1 with a fresh SQLite file, its
Web API pointed at an in-process FakeSlack that enforces 1 chat.postMessage per second per channel. 47 events
(`pref:NN`, capacity C) are imported and published through the service the CLI uses; then M members press
参加する over signed HTTP, `concurrency` at a time, each on their prefecture's event (member i → prefecture
i mod 47). Measured, wall clock and this process's CPU seconds:

  * post: from the first publish to the 47th accepted chat.postMessage;
  * acked: from the first click to the last HTTP 200 (bolt acks first, the sign-up runs after);
  * recorded: until every sign-up is in the database and its DM sent (sign-ups of one event take turns; on
    SQLite all do, the database having one writer);
  * current: until every post's last chat.update shows its final seats/waitlist;
  * chat.update calls (the refresher folds clicks: far fewer than M) and 429s.

Checked: exactly one post per channel, seats = min(C, n) and waitlist = n - seats per event, and every post's
final text equals the counts in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from aiohttp import ClientSession, web

from bench.common import cpu_seconds, table
from bot.app import create_app
from bot.blocks import events as blocks
from bot.config import Settings
from bot.local import requests as req
from bot.server import init_web
from bot.services import events as service
from storage import event_io, prefectures
from storage import events as store
from storage.data import prefectures as all_prefectures
from tests.fake_slack import FakeSlack

SECRET, TOKEN = "bench-secret", "xoxb-bench"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--capacity", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--budget", type=float, default=240.0, help="seconds before the bench gives up")
    return parser.parse_args(argv)


def catalogue(path: Path, capacity: int) -> None:
    lines = ["events:"]
    for p in all_prefectures():
        lines += [
            f"  - key: koryukai-{p.code}",
            f"    title: {p.name}人会 交流会",
            "    kind: 交流会",
            "    starts_at: 2099-04-16 19:00",
            "    ends_at: 2099-04-16 21:00",
            f"    capacity: {capacity}",
            f"    audience: pref:{p.code}",
            "    join_url: https://meet.example.jp/secret",
            "    publish: true",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def orchestrate(args: argparse.Namespace) -> int:
    slack = FakeSlack(tokens=[TOKEN])
    await slack.start()
    slack.enforce_channel_rate(1.0)
    users = [slack.add_user(f"m{i:05d}")["id"] for i in range(args.members)]
    codes = [p.code for p in all_prefectures()]
    with tempfile.TemporaryDirectory(prefix="yakuba-bench-") as tmp:
        settings = Settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=slack.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp}/bench.db",
            yakuba_jma_feed_url="",
        )
        yakuba = create_app(settings)
        runner = web.AppRunner(init_web(yakuba), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            deps = yakuba.deps
            await yakuba.identify()
            channels = {}
            for p in all_prefectures():
                channel = slack.add_channel(f"kenjinkai-{p.code}-{p.romaji}")
                channels[p.code] = channel["id"]
                await prefectures.record(
                    deps.db, team_id=deps.team_id, pref_code=p.code, channel_id=channel["id"], name=channel["name"]
                )
            path = Path(tmp) / "events.yaml"
            catalogue(path, args.capacity)

            cpu0, t0 = cpu_seconds(), time.perf_counter()

            async def on_saved(event, outcome: str, publish: bool) -> None:
                await service.saved(deps, event, outcome, publish_now=publish)

            report = await event_io.import_events(
                db=deps.db, team_id=deps.team_id, path=path, now=deps.clock(), tz=settings.tz, on_saved=on_saved
            )
            assert report.ok and len(report.created) == 47, report
            await slack.wait_for("chat.postMessage", count=47, where=lambda c: c.status == 200, timeout=args.budget)
            posted = time.perf_counter() - t0
            cpu_post = cpu_seconds() - cpu0
            posts = [c for c in slack.calls_to("chat.postMessage") if c.status == 200]
            assert sorted(c.args["channel"] for c in posts) == sorted(channels.values()), "one post per channel"

            events = {e.audience[5:]: e for e in await store.every(deps.db, team_id=deps.team_id)}
            gate = asyncio.Semaphore(args.concurrency)

            async def press(http: ClientSession, i: int, user: str) -> None:
                event = events[codes[i % 47]]
                body = req.block_actions_body(
                    user_id=user,
                    action_id=blocks.JOIN,
                    value=str(event.id),
                    channel_id=channels[codes[i % 47]],
                    response_url=slack.new_response_url(),
                )
                async with gate, http.post(f"{base}/slack/events", data=body, headers=req.sign(body, SECRET)) as r:
                    assert r.status == 200

            cpu1, t1 = cpu_seconds(), time.perf_counter()
            async with ClientSession() as http:
                await asyncio.gather(*(press(http, i, u) for i, u in enumerate(users)))
            signed_up = time.perf_counter() - t1
            await deps.drain(timeout=args.budget)
            recorded = time.perf_counter() - t1
            # Current: every event's post shows the version it has (the refresher wrote the last change).
            while await store.stale_posts(deps.db, team_id=deps.team_id, now=deps.clock()):
                if time.perf_counter() - t1 > args.budget:
                    raise TimeoutError
                await asyncio.sleep(0.05)
            current = time.perf_counter() - t1
            cpu_signup = cpu_seconds() - cpu1
            updates = [c for c in slack.calls_to("chat.update") if c.status == 200]
            limited = len([c for c in slack.calls if c.status == 429])

            wrong = 0
            for code, event in events.items():
                n = sum(1 for i in range(args.members) if codes[i % 47] == code)
                counts = await store.counts(deps.db, event_id=event.id)
                expect = (min(args.capacity, n), max(0, n - args.capacity))
                last = [c for c in updates if c.args.get("channel") == channels[code]][-1:]
                shown = str(last[0].args.get("blocks")) if last else ""
                line = blocks.seats_line(deps.texts, event, counts)
                wrong += (counts.seats, counts.waiting) != expect or line not in shown
            assert wrong == 0, f"{wrong} posts or counts are wrong"
        finally:
            await runner.cleanup()
            await slack.stop()
    load = os.getloadavg()
    print(
        table(
            ["step", "wall s", "CPU s", "Slack calls"],
            [
                ["post 47 events", posted, cpu_post, len(posts)],
                [f"{args.members} clicks acked (HTTP 200)", signed_up, "-", args.members],
                ["all sign-ups recorded, DMs sent", recorded, "-", "-"],
                ["all 47 posts current", current, cpu_signup, len(updates)],
            ],
            digits=2,
        )
    )
    print(
        f"members={args.members} capacity={args.capacity} concurrency={args.concurrency} "
        f"chat.update={len(updates)} (vs {args.members} sign-ups) 429s={limited} "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return asyncio.run(asyncio.wait_for(orchestrate(args), args.budget + 5))
    except TimeoutError:
        print(f"bench failed: exceeded its {args.budget:.0f}s budget", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
