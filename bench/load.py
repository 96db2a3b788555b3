"""A burst of mixed signed Slack requests at `yakuba serve` on loopback, next to a bare bolt AsyncApp.

    .venv/bin/python -m bench.load                         # 2000 requests, 32 in flight, plus a row at 8
    .venv/bin/python -m bench.load --events 1000 --concurrency 16
    .venv/bin/python -m bench.load --profile /tmp/prof    # cProfile yakuba's server (inflated numbers)

Progress goes to stderr, the report to stdout. About 2-4 minutes on 2 cores; --budget (default 300 s) is a
hard cap on the whole run.

The burst (item 3 of issue #8) mixes, in a fixed interleaving, a quarter each of:

* `team_join` events, one new user each (yakuba: member row, welcome DM through the outbox);
* `app_mention` events in #general asking a FAQ question (yakuba: FAQ search, reply in the thread);
* `message` events in the asker's DM with the bot (`channel_type: im`, answered like a mention);
* slash commands, in turn `/yakuba help`, `/programs today`, `/faq ワクチン` and `/kenjinkai`, each with its
  own response_url on the fake Slack.

yakuba acks an event once it is stored in its inbox (bot/slack/inbox.py; one commit for the requests of the
moment) and works on it after; a command is answered in the ack while the server is quiet and, while it is
busy, stored and answered through response_url by the same worker. The report says where each command's
answer went (in the ack or through response_url: every one must arrive), how long the work took after
each burst and how much CPU it used, and that the database holds exactly the work asked for.

yakuba runs as in bench/events.py (`init_web(create_app(settings))`, everything `yakuba serve` starts, a
fresh temp-file SQLite database), here with the example FAQs and programmes imported first. The **bare**
app is a bolt AsyncApp with the same signing secret and empty listeners for the same events and commands
(the commands just `ack()`), behind the same aiohttp dispatch. The process layout, the child protocol, the
budget and the yakuba role are bench/events.py's (imported, not copied): each server in its own process,
the FakeSlack (tests/fake_slack.py, here with 200 regular users, #general and their DMs) in a third, all
on 127.0.0.1.

Each app gets a warm-up (not measured), then the measured burst at --concurrency and, unless it is
already 8, again at concurrency 8: the p99 goal (< 100 ms) means most where requests do not queue behind
32 others on a 2-core machine. Last comes a serial probe (concurrency 1, 80 requests): what each kind
of request costs on an idle server, without queueing. Between yakuba's bursts the bench waits until
yakuba is idle again (its welcome DMs and FAQ replies sent), so one burst's background work does not
slow the next.

Goal (issue #8): yakuba's ack p99 < 100 ms and throughput >= 0.6x the bare app's. The report says for
each row whether it is met, plus p50/p99 per kind of request, the fake Slack's calls and errors, and
what the database holds afterwards (every join a member, every reply sent, the inbox empty).

A command whose handler has not called ack() after 3 s is answered by bolt's next matching listener,
handlers/fallback.py's catch-all ("unknown command" help) with a 200: the bench counts these from bolt's
"didn't call ack()" warnings in yakuba's log and reports them as failures.

Exit status: 1 on failed requests, late command acks, a missing answer, work left undone or an ERROR in
yakuba's log; 2 if a process could not be started or a step ran out of time. Not meeting the goal is
reported, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import aiohttp

from bench import events as ev
from bench.common import run_bench, summary_ms, table
from bench.events import HOST, SECRET, TOKEN, BenchError, Budget, Child, LoadResult
from bot.local.requests import TEAM_ID
from bot.server import dispatch

ROOT = Path(__file__).resolve().parents[1]
MAX_EVENTS = 20_000
LOW_CONCURRENCY = 8
SERIAL = 80  # requests of the serial probe (concurrency 1): 20 of each kind, 5 of each command
REGULARS = 200  # existing users who mention the bot, DM it and run commands
WARMUP = 40
LOAD_LIMIT = 60.0
IDLE_LIMIT = 90.0
GOAL_P99_MS = 100.0
GOAL_RATIO = 0.6
COMMANDS = (("/yakuba", "help"), ("/programs", "today"), ("/faq", "ワクチン"), ("/kenjinkai", ""))
QUESTIONS = (
    "ワクチンの保管温度は何度ですか",
    "接種予約システムはどこのもの？",
    "余ったワクチンの廃棄を減らすには",
    "会場の駐車場",
)
KINDS = ("team_join", "app_mention", "message.im", "command")


# =================================================================== child processes
async def _role_fake_slack(joiners: int) -> None:
    """bench/events.py's FakeSlack plus what mentions and DMs need: regular users, #general and their DMs."""
    from aiohttp import web

    from tests.fake_slack import FakeSlack

    fake = FakeSlack(tokens=[TOKEN], team_name="Yakuba Load")
    calls: Counter[str] = Counter()
    api_errors: Counter[str] = Counter()

    def on_call(call) -> None:
        calls[call.method] += 1
        if call.status != 200 or not call.response.get("ok"):
            api_errors[f"{call.method}:{call.response.get('error') or call.status}"] += 1

    async def bench_state(_request: web.Request) -> web.Response:
        return web.json_response({"calls": dict(calls), "api_errors": dict(api_errors)})

    fake.on_call(on_call)
    fake.app.router.add_get("/bench/state", bench_state)
    regulars = [fake.add_user(f"regular{i:04d}", f"Regular User {i}") for i in range(REGULARS)]
    general = fake.add_channel("general", members=[u["id"] for u in regulars])
    people = [{"id": u["id"], "dm": fake.dm_channel(u["id"])} for u in regulars]
    new_users = [fake.add_user(f"joiner{i:06d}", f"New User {i}") for i in range(joiners)]
    base_url = await fake.start(HOST, 0)
    # One response_url per command of both apps' bursts (a quarter of the requests, like the joins).
    urls = [fake.new_response_url(channel=general["id"]) for _ in range(2 * joiners)]
    ready = {
        "url": base_url,
        "root": fake.root_url,
        "joiners": new_users,
        "regulars": people,
        "general": general["id"],
        "response_urls": urls,
    }
    await ev._serve_until_stopped(ready, fake.stop)


async def _role_bare(slack_url: str) -> None:
    """A bolt AsyncApp with empty listeners for every kind of request in the burst."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    ev._child_logging()
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=slack_url),
        signing_secret=SECRET,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    async def empty_event() -> None:
        pass

    async def empty_command(ack) -> None:
        await ack()

    for event in ("team_join", "app_mention", "message"):
        bolt.event(event)(empty_event)
    for command, _ in COMMANDS:
        bolt.command(command)(empty_command)

    async def slack_events(request: web.Request) -> web.Response:
        # The same route code as yakuba serve, so the comparison isolates yakuba's own work.
        return await dispatch(bolt, SECRET, request)

    app = web.Application(client_max_size=512 * 1024)
    app.router.add_post("/slack/events", slack_events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    port = runner.addresses[0][1]
    await ev._serve_until_stopped({"url": f"http://{HOST}:{port}/slack/events"}, runner.cleanup)


def child_main(args: argparse.Namespace) -> None:
    loop = asyncio.new_event_loop()
    loop.call_later(args.max_life, os._exit, 3)  # a hard cap on this process's life
    if args.role == "fake-slack":
        coro = _role_fake_slack(args.users)
    elif args.role == "yakuba":
        coro = ev._role_yakuba(args.slack_url, args.db)
    else:
        coro = _role_bare(args.slack_url)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(Path(args.profile) / f"{args.role}.prof")


class LoadChild(Child):
    """bench/events.py's Child, started as a role of this module."""

    async def start(self) -> dict[str, Any]:
        with open(self.stderr_path, "wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.load",
                "--role",
                self.role,
                "--max-life",
                str(self.max_life),
                *self.extra,
                *self.profile,
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                limit=256 * 1024 * 1024,
            )
        # A profiled server starts several times slower (cProfile sees every import and the migrations).
        return await self._expect("ready", ev.CHILD_START * (4 if self.profile else 1))


# =================================================================== requests
class Burst:
    """Pre-built, pre-signed requests of one burst, with the kind of each."""

    def __init__(self) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        self.kinds: list[str] = []

    def add(self, kind: str, body: bytes) -> None:
        from bot.local import requests as req

        self.requests.append((body, req.sign(body, SECRET)))
        self.kinds.append(kind)


class Builder:
    """Makes bursts for one app: unique event ids, message ts and (for joins) users across its bursts."""

    def __init__(self, tag: str, fake: dict[str, Any], *, first_url: int = 0) -> None:
        self.tag, self.fake = tag, fake
        self.seq = 0
        self.next_joiner = 0
        self.next_url = first_url
        self.base_ts = int(time.time())

    def burst(self, n: int) -> Burst:
        from bot.local import requests as req

        out = Burst()
        regulars, general = self.fake["regulars"], self.fake["general"]
        for i in range(n):
            self.seq += 1
            event_id = f"EvLOAD{self.tag}{self.seq:07d}"
            person = regulars[self.seq % len(regulars)]
            ts = f"{self.base_ts}.{self.seq:06d}"
            question = QUESTIONS[(i // 4) % len(QUESTIONS)]
            kind = KINDS[i % 4]
            if kind == "team_join":
                user = self.fake["joiners"][self.next_joiner]
                self.next_joiner += 1
                out.add(kind, req.event_body(req.team_join_event(user), event_id=event_id))
            elif kind == "app_mention":
                event = req.message_event(person["id"], general, f"<@{req.BOT_USER_ID}> {question}", ts=ts)
                event["type"] = "app_mention"
                event.pop("channel_type")
                out.add(kind, req.event_body(event, event_id=event_id))
            elif kind == "message.im":
                event = req.message_event(person["id"], person["dm"], question, channel_type="im", ts=ts)
                out.add(kind, req.event_body(event, event_id=event_id))
            else:
                command, text = COMMANDS[(i // 4) % len(COMMANDS)]
                url = self.fake["response_urls"][self.next_url]
                self.next_url += 1
                body = req.command_body(command, text, user_id=person["id"], channel_id=general, response_url=url)
                out.add(f"{command} {text}".strip(), body)
        return out


def joins_in(n: int) -> int:
    return sum(1 for i in range(n) if KINDS[i % 4] == "team_join")


async def fire(app: str, url: str, burst: Burst, concurrency: int, limit: float) -> tuple[LoadResult, dict]:
    """bench/events.py's fire() (same client, same accounting), with each latency also filed by kind."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    result = LoadResult(app=app, events=len(burst.requests), wall=0.0)
    next_index = iter(range(len(burst.requests)))
    done = 0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def worker() -> None:
            nonlocal done
            for i in next_index:
                body, headers = burst.requests[i]
                t0 = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        answer = await response.read()
                        elapsed = time.perf_counter() - t0
                        if response.status == 200:
                            result.latencies.append(elapsed)
                            by_kind[burst.kinds[i]].append(elapsed)
                            result.answered_in_ack += burst.kinds[i].startswith("/") and b'"text"' in answer
                        else:
                            result.errors[f"HTTP {response.status}"] += 1
                except (aiohttp.ClientError, TimeoutError) as exc:
                    result.errors[type(exc).__name__] += 1
                done += 1

        result.started_at = time.time()
        t0 = time.perf_counter()
        workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
        _, pending = await asyncio.wait(workers, timeout=limit)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        result.wall = time.perf_counter() - t0
        result.ended_at = time.time()
    if done < len(burst.requests):
        result.errors[f"unanswered after {limit:.0f}s"] += len(burst.requests) - done
    return result, by_kind


# =================================================================== parent side
async def seed_database(db_path: Path, team_id: str) -> dict[str, int]:
    """Migrate a fresh database and import the example FAQs and programmes, as an operator would."""
    from storage import faq_io, program_io
    from storage.db import Database
    from storage.migrate import upgrade

    data = ROOT / "storage" / "data"
    db = Database(f"sqlite+aiosqlite:///{db_path}")
    try:
        await upgrade(db)
        faqs = await faq_io.import_faqs(db=db, team_id=team_id, path=data / "faqs.example.yaml")
        programs = await program_io.import_programs(db=db, team_id=team_id, source=data / "programs.example.yaml")
    finally:
        await db.dispose()
    return {"faqs": _imported(faqs), "programs": _imported(programs)}


def _imported(report: Any) -> int:
    """Entries a file import created (faq_io counts them, program_io lists their names)."""
    created = report.created
    return created if isinstance(created, int) else len(created)


async def measure(
    app: str, server: Child, url: str, bursts: list[Burst], levels: list[int], budget: Budget, settle=None
) -> dict[int, tuple[LoadResult, dict]]:
    """Warm-up (bursts[0], not measured), then one measured burst per concurrency level."""
    warm, _ = await fire(app, url, bursts[0], min(levels[0], len(bursts[0].requests)), budget.cap(LOAD_LIMIT))
    if warm.error_count:
        raise BenchError(f"{app}: warm-up failed: {dict(warm.errors)}\n{server.stderr_tail()}")
    out = {0: (warm, {})}  # level 0: the warm-up, kept for the accounting of answers
    for level, burst in zip(levels, bursts[1:], strict=True):
        if settle is not None:
            await settle()
        budget.progress(f"{app}: {len(burst.requests)} requests, concurrency {level}")
        before = await server.stats()
        result, by_kind = await fire(app, url, burst, level, budget.cap(LOAD_LIMIT))
        after = await server.stats()
        result.server_cpu = after["cpu"] - before["cpu"]
        result.server_rss_mb = after["rss_mb"]
        budget.progress(f"{app}: {result.ok} acked in {result.wall:.1f}s ({result.throughput:.0f}/s)")
        out[level] = (result, by_kind)
    return out


async def orchestrate(args: argparse.Namespace) -> int:
    budget = Budget(args.budget)
    n, c = args.events, args.concurrency
    levels = [c] if c == LOW_CONCURRENCY else [c, LOW_CONCURRENCY]
    levels.append(1)  # a short serial probe on an idle server: each request's own cost, no queueing
    sizes = {level: (min(n, SERIAL) if level == 1 else n) for level in levels}
    joins_needed = joins_in(WARMUP) + sum(joins_in(size) for size in sizes.values())
    children: list[Child] = []
    with tempfile.TemporaryDirectory(prefix="yakuba-load-") as tmp:
        workdir = Path(tmp)

        def child(role: str, *extra: str) -> Child:
            made = LoadChild(role, *extra, budget=budget, max_life=args.budget + 30, workdir=workdir)
            children.append(made)
            return made

        try:
            fake = child("fake-slack", "--users", str(joins_needed))
            fake_ready = await fake.start()
            state_url = f"{fake_ready['root']}bench/state"
            budget.progress(f"fake Slack ready: {REGULARS} regular users, {joins_needed} joiners")

            # ---------------------------------------------------------- bare bolt
            builder = Builder("B", fake_ready)
            bursts = [builder.burst(WARMUP)] + [builder.burst(sizes[level]) for level in levels]
            bare = child("bare", "--slack-url", fake_ready["url"])
            ready = await bare.start()
            bare_runs = await measure("bare", bare, ready["url"], bursts, levels, budget)
            await bare.stop()

            # ---------------------------------------------------------- yakuba
            db_path = workdir / "yakuba.db"
            seeded = await seed_database(db_path, TEAM_ID)  # the fake Slack's team
            builder = Builder("Y", fake_ready, first_url=joins_needed)
            bursts = [builder.burst(WARMUP)] + [builder.burst(sizes[level]) for level in levels]
            yak = child("yakuba", "--slack-url", fake_ready["url"], "--db", str(db_path))
            if args.profile:
                Path(args.profile).mkdir(parents=True, exist_ok=True)
                yak.profile = ("--profile", str(Path(args.profile).resolve()))
            ready = await yak.start()
            budget.progress(f"yakuba: started (seeded {seeded})")
            settled: list[tuple[float, float] | None] = []

            async def settle() -> None:
                # Let earlier requests' work (DMs, FAQ replies, command answers) finish before the next burst.
                started, before = time.perf_counter(), await yak.stats()
                idle_at, after = await ev.wait_idle(yak, budget.cap(args.idle_limit))
                done = None if idle_at is None else (time.perf_counter() - started, after["cpu"] - before["cpu"])
                settled.append(done)

            yak_runs = await measure("yakuba", yak, ready["url"], bursts, levels, budget, settle)
            last_ack = time.time()
            idle_at, _ = await ev.wait_idle(yak, budget.cap(args.idle_limit))
            async with aiohttp.ClientSession() as http:
                final = await ev.get_json(http, state_url)
            log_mark = yak.stderr_size()
            await yak.stop()
            db = ev.db_counts(db_path)
            run_errors = yak.stderr_matches(" ERROR ", end=log_mark)
            shutdown_errors = yak.stderr_matches(" ERROR ", start=log_mark)
            warnings = yak.stderr_matches(" WARNING ", context=1, limit=1)
            # bolt waits 3 s for a listener's ack(), then logs this and tries the next listener: here
            # handlers/fallback.py's catch-all, whose "unknown command" help becomes the 200 measured.
            late = yak.stderr_matches("didn't call ack()", context=1, limit=1)
        except (BenchError, aiohttp.ClientError) as exc:
            print(f"bench failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        finally:
            for made in reversed(children):
                await made.stop()

    # ------------------------------------------------------------------ report
    failures = []
    if args.profile:
        print(f"PROFILED RUN (cProfile in yakuba's server, profile in {args.profile}): numbers are inflated")
    print(
        f"yakuba load bench: {n} signed requests per burst (a quarter each team_join, app_mention, message.im, "
        f"slash commands), warm-up {WARMUP}; Python {platform.python_version()}, {os.cpu_count()} CPU(s), "
        "one process per server, sequential"
    )
    print()
    rows = []
    for level in levels:
        for app, runs in (("bare", bare_runs), ("yakuba", yak_runs)):
            r = runs[level][0]
            lat = summary_ms(r.latencies)
            rows.append(
                [
                    app,
                    level,
                    r.events,
                    round(r.wall, 2),
                    r.throughput,
                    lat["p50"],
                    lat["p99"],
                    lat["max"],
                    r.error_count,
                    r.server_cpu / max(1, r.ok) * 1000,
                ]
            )
            if r.errors:
                failures.append(f"{app} at concurrency {level}: {r.error_count} failed requests {dict(r.errors)}")
    headers = ["app", "conc.", "requests", "wall s", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "srv cpu ms/req"]
    print(table(headers, rows))
    print()
    for level in levels[:-1]:  # not for the serial probe
        bare_r, yak_r = bare_runs[level][0], yak_runs[level][0]
        p99 = summary_ms(yak_r.latencies)["p99"]
        ratio = yak_r.throughput / bare_r.throughput
        print(
            f"goal at concurrency {level}: yakuba ack p99 {p99:.1f} ms "
            f"({'met' if p99 < GOAL_P99_MS else 'NOT met'}: < {GOAL_P99_MS:.0f} ms); throughput "
            f"x{ratio:.2f} of bare bolt ({'met' if ratio >= GOAL_RATIO else 'NOT met'}: >= {GOAL_RATIO})"
        )
    print()
    kinds = sorted({k for runs in (bare_runs, yak_runs) for lvl in levels for k in runs[lvl][1]})
    headers = ["ack ms by kind"]
    for level in levels:
        headers += [f"bare p50 @{level}", f"p99 @{level}", f"yakuba p50 @{level}", f"p99 @{level}"]
    rows = []
    for kind in kinds:
        row: list[object] = [kind]
        for level in levels:
            for runs in (bare_runs, yak_runs):
                lat = summary_ms(runs[level][1].get(kind, []))
                row += [lat["p50"], lat["p99"]]
        rows.append(row)
    print(table(headers, rows))
    print()
    idle = "NOT within the limit" if idle_at is None else f"{idle_at - last_ack:.2f}s after the last ack"
    waits = ", ".join("-" if s is None else f"{s[0]:.1f}s ({s[1]:.1f}s CPU)" for s in settled)
    print(f"yakuba idle again (DMs and FAQ replies sent): {idle}; waits before its measured bursts: {waits}")
    first, after_first = yak_runs[levels[0]][0], settled[1] if len(settled) > 1 else None
    if after_first is not None:
        # The first measured burst's whole cost: its acks, then the work they queued (until idle again).
        print(
            f"yakuba's first measured burst ({first.events} requests at concurrency {levels[0]}) worked off in"
            f" {first.wall + after_first[0]:.1f} s wall, {first.server_cpu + after_first[1]:.1f} s CPU"
            f" ({first.server_cpu:.1f} s while acking, {after_first[1]:.1f} s after)"
        )
    print(f"fake Slack calls: {final['calls']}; API errors: {final['api_errors'] or 0}")
    joins_sent = joins_needed
    print(
        f"yakuba database afterwards: members={db['members']} (joins sent {joins_sent}), "
        f"seen_events={db['seen_events']}, outbox={db['outbox']}, inbox rows left={db['inbox']}"
    )
    commands = sum(1 for burst in bursts for kind in burst.kinds if kind.startswith("/"))
    in_ack = sum(result.answered_in_ack for result, _ in yak_runs.values())
    via_url = final["calls"].get("response_url", 0)
    print(f"yakuba slash commands: {commands} sent; answered in the ack {in_ack}, through response_url {via_url}")
    if in_ack + via_url != commands:
        failures.append(f"{commands} commands but {in_ack + via_url} answers")
    if db["members"] != joins_sent or db["inbox"] or set(db["outbox"]) - {"sent"}:
        failures.append("yakuba's work is not all done: see the database line")
    if warnings:
        first, count = warnings[0].split(" WARNING ", 1)[-1], warnings[-1]
        print(f"yakuba logged warnings {count}; the first: {first[:160]}")
    late_count = int(late[-1].strip("()").split()[0]) if late else 0
    print(f"commands not acked by their handler within bolt's 3 s (answered by the catch-all instead): {late_count}")
    if late_count:
        failures.append(f"{late_count} commands missed bolt's 3 s ack window (the user saw the fallback help)")
    if idle_at is None:
        failures.append(f"yakuba still busy {args.idle_limit:.0f}s after the last burst")
    if run_errors:
        failures.append("yakuba logged errors while running:\n" + "\n".join(run_errors))
    if shutdown_errors:
        failures.append("yakuba logged errors while shutting down:\n" + "\n".join(shutdown_errors))
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="measured requests per burst (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32; 8 is added)")
    parser.add_argument("--budget", type=float, default=300.0, help="wall-clock limit in seconds (default 300)")
    parser.add_argument(
        "--idle-limit",
        type=float,
        default=IDLE_LIMIT,
        help=f"seconds to wait for yakuba to be idle (default {IDLE_LIMIT:.0f})",
    )
    parser.add_argument("--profile", help="cProfile yakuba's server into DIR/yakuba.prof (numbers are inflated)")
    # Internal: how this module starts its own children.
    parser.add_argument("--role", choices=("fake-slack", "yakuba", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--max-life", type=float, default=360.0, help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role is None:
        if not 4 <= args.events <= MAX_EVENTS:
            parser.error(f"--events must be between 4 and {MAX_EVENTS}")
        if not 1 <= args.concurrency <= ev.MAX_CONCURRENCY:
            parser.error(f"--concurrency must be between 1 and {ev.MAX_CONCURRENCY}")
        if not 30 <= args.budget <= 600:
            parser.error("--budget must be between 30 and 600 seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_bench(argv, parse_args, child_main, orchestrate)


if __name__ == "__main__":
    sys.exit(main())
