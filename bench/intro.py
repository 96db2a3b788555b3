"""Introductions benchmark: one round for N opted-in members, the matching alone and the whole round.

    .venv/bin/python bench/intro.py [--members 10000] [--rounds 7] [--db PATH]

Members are spread over the municipalities of the shipped reference data (some prefectural and national
staff), each in 0–2 of 40 課, with a random preference. `--rounds` rounds are made one after the other, so
the later ones carry a history of pairs that must not meet again (YAKUBA_INTRO_NO_REPEAT = 6). For each round
the table shows the matching alone (pure, in memory) and the whole round as the job runs it (read the
eligible members and the history, match, write the round, its seats and one outbox row per group DM, on
SQLite), each in wall time and in CPU time of the process (the machine is shared: wall time includes waiting
for a core). Sending is left out: the outbox sends at Slack's pace, after the round.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import insert

from bench.common import table
from bot.config import Settings
from bot.services import intro as service
from bot.services.intro_matching import match
from bot.slack.context import Deps
from bot.texts import Texts
from storage import intro
from storage.data import municipalities
from storage.db import Database
from storage.migrate import upgrade
from storage.models import IntroOptIn, Member, Section, SectionMember

TEAM = "T_BENCH"
FIRST = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


HEADERS = (
    *("round", "members", "groups", "left out", "repeats", "unmet wishes"),
    *("matching s", "matching CPU s", "whole round s", "whole round CPU s"),
)


class NoSend:
    """The outbox's place in Deps: the round only queues; sending is not what is measured."""

    def kick(self) -> None:
        pass


async def populate(db: Database, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    munis = [m for m in municipalities() if m.kind != "designated_city"]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    members, optins, seats = [], [], []
    for i in range(n):
        muni = rng.choice(munis)
        org = rng.choices(("municipality", "prefecture", "national"), (90, 8, 2))[0]
        user = f"U{i:08d}"
        members.append(
            dict(
                team_id=TEAM, user_id=user, status="approved", name=f"Member {i}", org_type=org,
                pref_code=muni.pref_code, muni_code=muni.code if org == "municipality" else None,
                department="Soumu", interests=[], joined_at=now, created_at=now, updated_at=now, approved_at=now,
            )
        )  # fmt: skip
        preference = rng.choices(intro.PREFERENCES, (60, 15, 15, 10))[0]
        optins.append(
            dict(team_id=TEAM, user_id=user, active=True, preference=preference, created_at=now, updated_at=now)
        )
        seats += [(user, s) for s in rng.sample(range(40), rng.choice((0, 1, 1, 2)))]
    async with db.write() as session:
        await session.execute(insert(Member), members)
        await session.execute(insert(IntroOptIn), optins)
        await session.execute(
            insert(Section),
            [dict(team_id=TEAM, name=f"課{s}", name_key=f"ka{s}", kind="work", created_at=now, updated_at=now)
             for s in range(40)],
        )  # fmt: skip
    async with db.read() as session:
        ids = {row.name_key: row.id for row in (await session.execute(Section.__table__.select())).all()}
    async with db.write() as session:
        await session.execute(
            insert(SectionMember),
            [dict(team_id=TEAM, section_id=ids[f"ka{s}"], user_id=u, joined_at=now) for u, s in seats],
        )


async def main(members: int, rounds: int, path: Path) -> None:
    url = f"sqlite+aiosqlite:///{path}"
    settings = Settings(_env_file=None, database_url=url)
    db = Database(url)
    await upgrade(db)
    started = time.perf_counter()
    await populate(db, members)
    print(f"{members:,} opted-in members written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    deps = Deps(settings=settings, db=db, client=AsyncWebClient(base_url="http://127.0.0.1:9/"), texts=Texts("ja"))
    deps.team_id = TEAM
    deps.outbox = NoSend()  # type: ignore[assignment]
    rows = []
    for k in range(rounds):
        slot = FIRST + timedelta(weeks=2 * k)
        eligible = await intro.eligible(db, team_id=TEAM)
        past = await intro.history(db, team_id=TEAM, before=slot, rounds=service.TRIO_MEMORY)
        met, trio = service.history_costs(past)
        candidates = [service.candidate_of(r, trio.get(r.member.user_id)) for r in eligible]
        t0, c0 = time.perf_counter(), time.process_time()
        alone = match(candidates, met=met, no_repeat=6, seed=k)
        matching, matching_cpu = time.perf_counter() - t0, time.process_time() - c0
        t0, c0 = time.perf_counter(), time.process_time()
        result = await service.run_round(deps, slot)
        whole, whole_cpu = time.perf_counter() - t0, time.process_time() - c0
        g = result.grouping
        assert g is not None and alone.groups
        figures = (len(eligible), len(g.groups), len(g.left_out), g.repeats, g.unmet_wishes)
        rows.append((k + 1, *figures, matching, matching_cpu, whole, whole_cpu))
    await db.dispose()
    print(
        table(
            HEADERS,
            rows,
            digits=2,
        )
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(args.members, args.rounds, args.db or Path(tmp) / "bench-intro.db"))
