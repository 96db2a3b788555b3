"""Signed-event throughput and ack latency of `yakuba serve` against a bare bolt AsyncApp, in one run.

Run from the repository root (1-2.5 minutes with the defaults on 2 cores; --budget, default 150 s, is a
hard cap: late steps get shortened and report their shortfall as failures):

    .venv/bin/python -m bench.events                      # 2000 events, 32 in flight
    .venv/bin/python -m bench.events --events 500 --concurrency 8
    .venv/bin/python -m bench.events --profile /tmp/prof  # cProfile both servers (inflated numbers)

Progress goes to stderr, the report to stdout.

What it measures
----------------
* **yakuba**: the real aiohttp app from `init_web(create_app(settings))` (migrations, identity,
  scheduler, outbox: everything `yakuba serve` starts) on a fresh temp-file SQLite database,
  its Web API pointed at a FakeSlack.
* **bare**: a bolt AsyncApp with the same signing secret, `process_before_response=False` and an empty
  `team_join` listener, behind a minimal aiohttp route that dispatches exactly like bot/server.py.
  The difference between the two rows is yakuba's own cost per event.

Both get N signed `team_join` event_callback bodies (unique event_ids, one distinct FakeSlack user
each, full user objects as Slack sends them), pre-signed before the clock starts, posted over keep-alive
HTTP by an aiohttp ClientSession with C requests in flight. Ack latency is the time to the HTTP 200;
throughput is acked events per wall-clock second. A short warm-up (not measured) precedes each run.

The table also shows each server process's CPU time during the measured load (per event, too) and
its peak RSS. For yakuba it also measures the drain time (first measured request -> last welcome DM
accepted by the fake Slack, and the same from the last ack), how long after the last ack the process
went idle (background work that outlives the DMs), how many TCP connections its Slack client opened,
and checks that every user got exactly one DM and that the database agrees (members, outbox rows
sent, one seen_events row per event): OK / FAIL.

Process layout (why subprocesses): each server runs alone in its own Python process, and the two runs
are sequential. In-process, the load generator's client work would run on the server's event loop
and GIL and be billed to the server; a fresh interpreter per server also keeps imports, caches and
GC state of one from helping or hurting the other. The FakeSlack runs in a third process so serving
yakuba's DMs is not charged to yakuba's loop (it still shares the machine's cores, as the real Slack
would not). All traffic goes to 127.0.0.1.

Exit status: 1 on any failed request, a drain or idle wait that does not finish, a failed correctness
check or an ERROR in yakuba's log (running or shutting down); 2 if a process could not be started.
Every wait is bounded; children exit on their own if the parent goes away (stdin EOF) or after a
hard lifetime cap.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import cpu_seconds, peak_rss_mb, run_bench, summary_ms, table
from bot.server import dispatch

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
MAX_EVENTS = 100_000
MAX_CONCURRENCY = 1024

# Step limits (seconds); every one is further capped by what is left of --budget.
CHILD_START = 30.0
CHILD_STOP = 15.0
LOAD_LIMIT = {"bare": 45.0, "yakuba": 60.0}
DRAIN_LIMIT = 60.0
WARMUP_DMS = 20.0
QUIESCE_LIMIT = 30.0
IDLE_WINDOW = 0.5  # seconds; IDLE_WINDOWS of them in a row under 10% of a core (and no background task) = idle
IDLE_WINDOWS = 3
SAMPLE_EVERY = 0.25
REQUEST_TIMEOUT = 30.0


# =================================================================== child processes
def _emit(kind: str, **data: Any) -> None:
    sys.stdout.write(json.dumps({"bench": kind, **data}) + "\n")
    sys.stdout.flush()


def _usage(extra=None) -> dict[str, Any]:
    return {"cpu": cpu_seconds(), "rss_mb": peak_rss_mb(), **(extra() if extra else {})}


async def _serve_until_stopped(ready: dict[str, Any], stop, extra=None) -> None:
    """Announce readiness, answer `stats` lines on stdin, shut down on `stop` or EOF (parent gone).

    `extra()` adds role-specific numbers to every stats answer."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    _emit("ready", **ready)
    while True:
        line = await reader.readline()
        command = line.decode().strip()
        if command == "stats":
            _emit("stats", **_usage(extra))
        elif not line or command == "stop":
            break
    await stop()
    _emit("stopped", **_usage())


def _child_logging() -> None:
    # What `yakuba serve` configures (bot/cli/__init__.py), for both servers alike; it goes to the child's stderr file.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _role_fake_slack(users: int) -> None:
    from aiohttp import web

    from tests.fake_slack import FakeSlack

    fake = FakeSlack(tokens=[TOKEN], team_name="Yakuba Bench")
    dm_counts: Counter[str] = Counter()
    api_errors: Counter[str] = Counter()
    state = {"last_dm_at": 0.0, "first_dm_at": 0.0}

    def on_call(call) -> None:
        if call.status != 200 or not call.response.get("ok"):
            api_errors[f"{call.method}:{call.response.get('error') or call.status}"] += 1
            return
        if call.method == "chat.postMessage":
            channel = fake.ws.channels.get(call.response.get("channel") or "")
            if channel is not None and channel.get("is_im"):
                dm_counts[channel["user"]] += 1
                state["last_dm_at"] = call.at
                state["first_dm_at"] = state["first_dm_at"] or call.at

    async def bench_state(request: web.Request) -> web.Response:
        body: dict[str, Any] = {
            "dms": sum(dm_counts.values()),
            "api_errors": dict(api_errors),
            "connections": len(connections),
            "calls": dict(Counter(c.method for c in fake.calls)) if request.query.get("full") else {},
            **state,
        }
        if request.query.get("full"):
            # What the subscriber saw, and independently what the workspace's DM histories hold.
            body["dm_counts"] = dict(dm_counts)
            body["history_counts"] = {
                ch["user"]: len(fake.ws.history.get(ch["id"], []))
                for ch in fake.ws.channels.values()
                if ch.get("is_im")
            }
        return web.json_response(body)

    @web.middleware
    async def count_connections(request: web.Request, handler):
        # One entry per client TCP connection (transports are kept, so none is counted twice):
        # shows whether callers reuse connections (keep-alive).
        connections.add(request.transport)
        return await handler(request)

    connections: set[Any] = set()
    fake.app.middlewares.append(count_connections)
    fake.on_call(on_call)
    fake.app.router.add_get("/bench/state", bench_state)
    created = [fake.add_user(f"bench{i:06d}", f"Bench User {i}") for i in range(users)]
    base_url = await fake.start(HOST, 0)
    await _serve_until_stopped({"url": base_url, "root": fake.root_url, "users": created}, fake.stop)


async def _role_yakuba(slack_url: str, db_path: str) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.config import Settings
    from bot.server import init_web

    _child_logging()
    settings = Settings(
        _env_file=None,
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=slack_url,
        database_url=f"sqlite+aiosqlite:///{db_path}",
        yakuba_organizers="",
        yakuba_admin_channel=None,
        yakuba_broadcast_channel=None,
    )
    yakuba = create_app(settings)
    runner = web.AppRunner(init_web(yakuba), access_log=None)
    await runner.setup()  # runs init_web's lifecycle: migrations, auth.test, scheduler, outbox kick
    await web.TCPSite(runner, HOST, 0).start()
    port = runner.addresses[0][1]
    await _serve_until_stopped(
        {"url": f"http://{HOST}:{port}/slack/events", "health": f"http://{HOST}:{port}/healthz"},
        runner.cleanup,
        # Background tasks yakuba keeps (Deps.spawn: outbox flushes and the like), plus one while its inbox
        # holds work not yet done. A private attribute, read defensively: a benchmark's peek, not an interface.
        lambda: {"background": len(getattr(yakuba.deps, "_tasks", ())) + (not yakuba.deps.inbox.idle)},
    )


async def _role_bare(slack_url: str) -> None:
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    _child_logging()
    # Same token and fake Slack as yakuba: bolt's single-team authorization calls auth.test once, here too.
    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=slack_url),
        signing_secret=SECRET,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )

    @bolt.event("team_join")
    async def _empty() -> None:
        pass

    async def slack_events(request: web.Request) -> web.Response:
        # The same route code as yakuba serve, so the comparison isolates yakuba's own work.
        return await dispatch(bolt, SECRET, request)

    app = web.Application(client_max_size=512 * 1024)
    app.router.add_post("/slack/events", slack_events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, 0).start()
    port = runner.addresses[0][1]
    await _serve_until_stopped({"url": f"http://{HOST}:{port}/slack/events"}, runner.cleanup)


def child_main(args: argparse.Namespace) -> None:
    # A hard cap on this process's life, whatever happens to the parent or the event loop.
    loop = asyncio.new_event_loop()
    loop.call_later(args.max_life, os._exit, 3)
    if args.role == "fake-slack":
        coro = _role_fake_slack(args.users)
    elif args.role == "yakuba":
        coro = _role_yakuba(args.slack_url, args.db)
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


# =================================================================== parent side
class BenchError(Exception):
    """Something that makes this run's numbers meaningless (a child failed, a step timed out)."""


class Budget:
    """The run's wall-clock limit. Steps get what is left (less a reserve for stopping and reporting),
    so a slow machine shortens the late steps, which then report their shortfall as failures."""

    RESERVE = 12.0
    FLOOR = 0.5

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + seconds

    def cap(self, seconds: float, reserve: float = RESERVE) -> float:
        return max(self.FLOOR, min(seconds, self.deadline - time.monotonic() - reserve))

    def progress(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:6.1f}s] {message}", file=sys.stderr, flush=True)


class Child:
    """One subprocess of this module, spoken to with JSON lines on stdin/stdout."""

    def __init__(self, role: str, *extra: str, budget: Budget, max_life: float, workdir: Path) -> None:
        self.role = role
        self.extra = extra
        self.budget = budget
        self.max_life = max_life
        self.stderr_path = workdir / f"{role}.stderr"
        self.proc: asyncio.subprocess.Process | None = None
        self.profile: tuple[str, ...] = ()
        self._lock = asyncio.Lock()

    async def start(self) -> dict[str, Any]:
        with open(self.stderr_path, "wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.events",
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
        return await self._expect("ready", CHILD_START)

    async def _expect(self, kind: str, limit: float, reserve: float = Budget.RESERVE) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        limit = self.budget.cap(limit, reserve)
        try:
            async with asyncio.timeout(limit):
                while True:
                    line = await self.proc.stdout.readline()
                    if not line:
                        raise BenchError(f"{self.role} exited before '{kind}'\n{self.stderr_tail()}")
                    with contextlib.suppress(ValueError):
                        message = json.loads(line)
                        if isinstance(message, dict) and message.get("bench") == kind:
                            return message
        except TimeoutError:
            raise BenchError(f"{self.role}: no '{kind}' within {limit:.1f}s\n{self.stderr_tail()}") from None

    async def stats(self) -> dict[str, Any]:
        async with self._lock:  # one question at a time: answers are matched by order
            self._send("stats")
            return await self._expect("stats", 10)

    def _send(self, line: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")

    async def stop(self) -> dict[str, Any] | None:
        """Ask for a clean shutdown; kill this child (only this pid) if it does not comply in time."""
        if self.proc is None or self.proc.returncode is not None:
            return None
        result = None
        try:
            self._send("stop")
            # Stopping may use the reserve: a clean shutdown is part of what is checked.
            result = await self._expect("stopped", CHILD_STOP, reserve=1.0)
            async with asyncio.timeout(5):
                await self.proc.wait()
        except (BenchError, TimeoutError, ConnectionError):
            pass
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        return result

    def stderr_tail(self, lines: int = 15) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(f"  [{self.role}] {line}" for line in text[-lines:])

    def stderr_size(self) -> int:
        try:
            return self.stderr_path.stat().st_size
        except OSError:
            return 0

    def stderr_matches(
        self, needle: str, *, context: int = 25, limit: int = 3, start: int = 0, end: int | None = None
    ) -> list[str]:
        """The first `limit` log records containing `needle` (in bytes start..end of the log), with what follows."""
        try:
            lines = self.stderr_path.read_bytes()[start:end].decode(errors="replace").splitlines()
        except OSError:
            return []
        hits = [i for i, line in enumerate(lines) if needle in line]
        return ["\n".join(lines[i : i + context]) for i in hits[:limit]] + [f"({len(hits)} in all)"] * bool(hits)


@dataclass
class LoadResult:
    app: str
    events: int
    wall: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    started_at: float = 0.0  # time.time() of the first request
    ended_at: float = 0.0  # time.time() of the last answer
    server_cpu: float = float("nan")
    server_rss_mb: float = float("nan")
    answered_in_ack: int = 0  # slash commands whose 200 carried the answer (the rest answer via response_url)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return self.ok / self.wall if self.wall > 0 else float("nan")


def build_requests(users: list[dict], tag: str) -> list[tuple[bytes, dict[str, str]]]:
    """Signed team_join event_callback bodies, one per user, each with its own event_id."""
    from bot.local import requests as req

    out = []
    for i, user in enumerate(users):
        body = req.event_body(req.team_join_event(user), event_id=f"EvBENCH{tag}{i:07d}")
        out.append((body, req.sign(body, SECRET)))
    return out


async def fire(
    app: str, url: str, requests: list[tuple[bytes, dict[str, str]]], concurrency: int, limit: float
) -> LoadResult:
    """Post every request with `concurrency` in flight; stop (counting the rest as errors) after `limit` s."""
    result = LoadResult(app=app, events=len(requests), wall=0.0)
    next_index = iter(range(len(requests)))
    done = 0
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def worker() -> None:
            nonlocal done
            for i in next_index:
                body, headers = requests[i]
                t0 = time.perf_counter()
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        elapsed = time.perf_counter() - t0
                        if response.status == 200:
                            result.latencies.append(elapsed)
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
    if done < len(requests):
        result.errors[f"unanswered after {limit:.0f}s"] += len(requests) - done
    return result


async def get_json(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with http.get(url) as response:
        return await response.json()


async def wait_for_dms(
    http: aiohttp.ClientSession, fake_state: str, health: str, expected: int, limit: float
) -> dict[str, Any] | None:
    """Poll until the fake Slack holds `expected` DMs and yakuba's outbox is empty; None on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        state = await get_json(http, fake_state)
        if state["dms"] >= expected:
            health_body = await get_json(http, health)
            if health_body.get("outbox_pending") == 0:
                return state
        await asyncio.sleep(0.05)
    return None


async def wait_idle(child: Child, limit: float) -> tuple[float | None, dict[str, Any]]:
    """Wait until `child` has no background task left and used under 10% of a core for IDLE_WINDOWS
    windows in a row; returns (time.time() the quiet began, its stats) or (None, stats) on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    previous, since, quiet = await child.stats(), time.time(), 0
    while loop.time() < deadline:
        await asyncio.sleep(IDLE_WINDOW)
        current = await child.stats()
        if current["cpu"] - previous["cpu"] < 0.1 * IDLE_WINDOW and not current.get("background"):
            quiet += 1
            if quiet >= IDLE_WINDOWS:
                return since, current
        else:
            quiet, since = 0, time.time()
        previous = current
    return None, previous


class PeakSampler:
    """Polls a child's stats every SAMPLE_EVERY seconds and keeps the peak of one number."""

    def __init__(self, child: Child, key: str) -> None:
        self.child, self.key, self.peak = child, key, 0
        self._running = True
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._running:
            stats = await self.child.stats()
            self.peak = max(self.peak, stats.get(self.key) or 0)
            await asyncio.sleep(SAMPLE_EVERY)

    async def stop(self) -> int:
        self._running = False
        with contextlib.suppress(BenchError):
            await self._task
        return self.peak


def db_counts(db_path: Path) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return {
            "members": conn.execute("SELECT count(*) FROM members").fetchone()[0],
            "seen_events": conn.execute("SELECT count(*) FROM seen_events").fetchone()[0],
            "outbox": dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()),
            "inbox": conn.execute("SELECT count(*) FROM inbox").fetchone()[0],
        }


async def run_phase(app: str, child: Child, warmup, args, budget: Budget) -> dict[str, Any]:
    """Start the server and send it the warm-up events (not measured); returns its 'ready' message."""
    ready = await child.start()
    if warmup:
        warm = await fire(app, ready["url"], warmup, min(args.concurrency, len(warmup)), budget.cap(LOAD_LIMIT[app]))
        if warm.error_count:
            raise BenchError(f"{app}: warm-up failed: {dict(warm.errors)}\n{child.stderr_tail()}")
    return ready


async def orchestrate(args: argparse.Namespace) -> int:
    budget = Budget(args.budget)
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    n, c, w = args.events, args.concurrency, args.warmup
    failures: list[str] = []
    children: list[Child] = []
    with tempfile.TemporaryDirectory(prefix="yakuba-bench-") as tmp:
        workdir = Path(tmp)
        max_life = args.budget + 30

        def child(role: str, *extra: str) -> Child:
            made = Child(role, *extra, budget=budget, max_life=max_life, workdir=workdir)
            if args.profile and role != "fake-slack":
                made.profile = ("--profile", str(Path(args.profile).resolve()))
            children.append(made)
            return made

        try:
            fake = child("fake-slack", "--users", str(n + w))
            fake_ready = await fake.start()
            budget.progress(f"fake Slack ready with {n + w} users")
            users = fake_ready["users"]
            warm_users, bench_users = users[:w], users[w:]
            fake_state = f"{fake_ready['root']}bench/state"
            # Pre-built and pre-signed, so the load generator only sends bytes while the clock runs.
            warm_bare, warm_yakuba = build_requests(warm_users, "BW"), build_requests(warm_users, "YW")
            load_bare, load_yakuba = build_requests(bench_users, "B"), build_requests(bench_users, "Y")

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                # ---------------------------------------------------------- bare bolt
                bare = child("bare", "--slack-url", fake_ready["url"])
                ready = await run_phase("bare", bare, warm_bare, args, budget)
                budget.progress("bare: started and warmed up; measuring")
                before = await bare.stats()
                bare_result = await fire("bare", ready["url"], load_bare, c, budget.cap(LOAD_LIMIT["bare"]))
                after = await bare.stats()
                bare_result.server_cpu = after["cpu"] - before["cpu"]
                stopped = await bare.stop()
                bare_result.server_rss_mb = (stopped or after)["rss_mb"]
                budget.progress(f"bare: {bare_result.ok} acked in {bare_result.wall:.1f}s, stopped")

                # ---------------------------------------------------------- yakuba
                db_path = workdir / "yakuba.db"
                yak = child("yakuba", "--slack-url", fake_ready["url"], "--db", str(db_path))
                ready = await run_phase("yakuba", yak, warm_yakuba, args, budget)
                budget.progress("yakuba: started and warm-up events acked")
                if await wait_for_dms(http, fake_state, ready["health"], w, budget.cap(WARMUP_DMS)) is None:
                    raise BenchError(f"yakuba: warm-up DMs not delivered\n{yak.stderr_tail()}")
                await wait_idle(yak, budget.cap(WARMUP_DMS))  # let the warm-up's background work finish
                budget.progress("yakuba: warm-up DMs delivered; measuring")
                before = await yak.stats()
                sampler = PeakSampler(yak, "background")
                yak_result = await fire("yakuba", ready["url"], load_yakuba, c, budget.cap(LOAD_LIMIT["yakuba"]))
                after_load = await yak.stats()
                yak_result.server_cpu = after_load["cpu"] - before["cpu"]
                budget.progress(f"yakuba: {yak_result.ok} acked in {yak_result.wall:.1f}s; waiting for the DMs")
                drained = await wait_for_dms(http, fake_state, ready["health"], w + n, budget.cap(DRAIN_LIMIT))
                after_drain = await yak.stats()
                budget.progress(
                    "yakuba: DMs " + ("delivered" if drained else "NOT all delivered") + "; waiting for idle"
                )
                # Background work may go on after the last DM; stopping mid-way would cut it short.
                idle_at, after_idle = None, after_drain
                if drained:
                    idle_at, after_idle = await wait_idle(yak, budget.cap(QUIESCE_LIMIT))
                peak_background = await sampler.stop()
                background_left = after_idle.get("background", 0)
                final = await get_json(http, fake_state + "?full=1")
                log_mark = yak.stderr_size()
                stopped = await yak.stop()
                budget.progress("yakuba: stopped")
                yak_result.server_rss_mb = (stopped or after_idle)["rss_mb"]
                db = db_counts(db_path)
                run_errors = yak.stderr_matches(" ERROR ", end=log_mark)
                shutdown_errors = yak.stderr_matches(" ERROR ", start=log_mark)
                yakuba_warnings = yak.stderr_matches(" WARNING ", context=1, limit=1)
        except (BenchError, aiohttp.ClientError) as exc:
            print(f"bench failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 2
        finally:
            for made in reversed(children):
                await made.stop()

    # ------------------------------------------------------------------ report
    if args.profile:
        print(f"PROFILED RUN (cProfile in both servers, profiles in {args.profile}): numbers are inflated")
    print(
        f"yakuba events bench: {n} team_join events, concurrency {c}, warm-up {w}; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPU(s), one process per server, sequential"
    )
    print()
    headers = [
        "app",
        "events",
        "wall s",
        "events/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "srv cpu s",
        "srv cpu ms/ev",
        "srv peak RSS MiB",
    ]
    rows = []
    for r in (bare_result, yak_result):
        lat = summary_ms(r.latencies)
        rows.append(
            [
                r.app,
                r.events,
                round(r.wall, 2),
                r.throughput,
                lat["p50"],
                lat["p99"],
                lat["max"],
                r.error_count,
                r.server_cpu,
                r.server_cpu / max(1, r.ok) * 1000,
                r.server_rss_mb,
            ]
        )
    print(table(headers, rows, digits=1))
    print("(srv cpu: the server process's CPU time during the measured load; yakuba's includes DMs sent meanwhile)")
    print()
    bare_p99, yak_p99 = summary_ms(bare_result.latencies)["p99"], summary_ms(yak_result.latencies)["p99"]
    print(
        f"yakuba/bare  throughput x{yak_result.throughput / bare_result.throughput:.2f}   p99 x{yak_p99 / bare_p99:.2f}"
    )
    for r in (bare_result, yak_result):
        if r.errors:
            failures.append(f"{r.app}: {r.error_count} failed requests {dict(r.errors)}")

    expected = set(u["id"] for u in users)
    if drained is None:
        failures.append(
            f"drain: only {final['dms']} of {w + n} welcome DMs (or outbox not empty) within {DRAIN_LIMIT:.0f}s"
        )
        print(f"yakuba drain: NOT FINISHED ({final['dms']}/{w + n} DMs)")
    else:
        last = drained["last_dm_at"]
        print(
            f"yakuba drain: all {n} welcome DMs delivered {last - yak_result.started_at:.2f}s after the first "
            f"request, {max(0.0, last - yak_result.ended_at):.2f}s after the last ack "
            f"(server CPU during drain {after_drain['cpu'] - after_load['cpu']:.1f}s)"
        )
    print(f"yakuba background tasks (Deps.spawn): peak {peak_background}, {background_left} left when it was stopped")
    if drained is None:
        pass  # still draining: idleness was not waited for
    elif idle_at is None:
        failures.append(f"yakuba still busy {QUIESCE_LIMIT:.0f}s after the drain")
        print(f"yakuba idle: NOT within {QUIESCE_LIMIT:.0f}s after the drain")
    else:
        print(
            f"yakuba idle: {idle_at - yak_result.ended_at:.2f}s after the last ack "
            f"(server CPU after the last DM {after_idle['cpu'] - after_drain['cpu']:.1f}s)"
        )

    seen, history = Counter(final["dm_counts"]), Counter(final["history_counts"])
    wrong = sorted(u for u in expected if seen[u] != 1 or history[u] != 1)
    duplicated = sum(1 for u in expected if max(seen[u], history[u]) > 1)
    missing = sum(1 for u in expected if history[u] == 0)
    strays = sorted(u for u in set(history) - expected if history[u])
    db_ok = (
        db["members"] == len(expected)
        and db["outbox"] == {"sent": len(expected)}
        and db["seen_events"] == len(expected)
    )
    correct = not wrong and not strays and db_ok and not final["api_errors"]
    detail = (
        f"{sum(1 for u in expected if history[u] == 1)}/{len(expected)} users with exactly one DM, "
        f"{missing} with none, {duplicated} with more than one; "
        f"db members={db['members']} seen_events={db['seen_events']} outbox={db['outbox']}; "
        f"fake Slack API errors={final['api_errors'] or 0}"
    )
    print(f"correctness: {'OK' if correct else 'FAIL'} ({detail})")
    print(f"fake Slack saw: {final['calls']} over {final['connections']} TCP connection(s)")
    if not correct:
        failures.append(
            "correctness: "
            + (f"wrong DM counts for {wrong[:5]}... " if wrong else "")
            + (f"stray DMs to {strays[:5]} " if strays else "")
            + ("" if db_ok else "db mismatch")
        )
    if yakuba_warnings:
        first, count = yakuba_warnings[0].split(" WARNING ", 1)[-1], yakuba_warnings[-1]
        print(f"yakuba logged warnings {count}; the first: {first[:160]}")
    if run_errors:
        failures.append("yakuba logged errors while running:\n" + "\n".join(run_errors))
    if shutdown_errors:
        failures.append("yakuba logged errors while shutting down:\n" + "\n".join(shutdown_errors))
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    return 1 if failures else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="measured events per app (default 2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (default 32)")
    parser.add_argument("--warmup", type=int, default=50, help="unmeasured events first, per app (default 50)")
    parser.add_argument("--budget", type=float, default=150.0, help="wall-clock limit in seconds (default 150)")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="run both servers under cProfile and write "
        "DIR/bare.prof and DIR/yakuba.prof (slows them down: numbers are not comparable)",
    )
    # Internal: how this module starts its own children.
    parser.add_argument("--role", choices=("fake-slack", "yakuba", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--max-life", type=float, default=200.0, help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role is None:
        if not 1 <= args.events <= MAX_EVENTS:
            parser.error(f"--events must be between 1 and {MAX_EVENTS}")
        if not 1 <= args.concurrency <= MAX_CONCURRENCY:
            parser.error(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
        if not 0 <= args.warmup <= 1000:
            parser.error("--warmup must be between 0 and 1000")
        if not 30 <= args.budget <= 165:
            parser.error("--budget must be between 30 and 165 seconds")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_bench(argv, parse_args, child_main, orchestrate)


if __name__ == "__main__":
    sys.exit(main())
