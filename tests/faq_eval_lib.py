"""Shared by tests/test_faq_eval.py and bench/faq.py: load the eval set and measure top-1/top-3."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import delete

from storage import faqs
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Archive, Faq, FaqRevision, FaqVote, SearchDoc, UnansweredQuestion

DATA = Path(__file__).parent / "data" / "faq_eval"
TEAM = "T_EVAL"


async def fresh_db(url: str) -> Database:
    """A migrated database with no knowledge rows (a shared PostgreSQL keeps rows between tests)."""
    db = Database(url)
    await upgrade(db)
    if not db.is_sqlite:
        async with db.write() as session:
            for model in (FaqVote, FaqRevision, UnansweredQuestion, SearchDoc, Archive, Faq):
                await session.execute(delete(model))
    return db


@dataclass
class EvalResult:
    total: int = 0
    top1: int = 0
    top3: int = 0
    confident: int = 0
    confident_wrong: list[tuple[str, str, str]] = field(default_factory=list)
    misses: list[tuple[str, str, list[str]]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)


async def load_entries(db: Database, team_id: str = TEAM) -> dict[int, str]:
    """Import faqs.yaml; returns FAQ row id → eval id."""
    ids: dict[int, str] = {}
    for e in yaml.safe_load((DATA / "faqs.yaml").read_text(encoding="utf-8")):
        updated = e.get("updated_on")
        faq, _ = await faqs.upsert(
            db=db,
            team_id=team_id,
            question=e["question"],
            answer=e["answer"],
            tags=e.get("tags") or [],
            aliases=e.get("aliases") or [],
            category=e.get("category"),
            source=e.get("source"),
            updated_on=updated if isinstance(updated, date) else None,
        )
        ids[faq.id] = e["id"]
    return ids


async def evaluate(db: Database, ids: dict[int, str], team_id: str = TEAM) -> EvalResult:
    res = EvalResult()
    for item in yaml.safe_load((DATA / "queries.yaml").read_text(encoding="utf-8")):
        t0 = time.perf_counter()
        hits = await faqs.search(db=db, team_id=team_id, query=item["q"], limit=3)
        res.latencies_ms.append((time.perf_counter() - t0) * 1000)
        got = [ids.get(h.faq.id, f"#{h.faq.id}") for h in hits]
        res.total += 1
        res.top1 += bool(got[:1] == [item["expect"]])
        res.top3 += item["expect"] in got
        if hits and hits[0].confident:
            res.confident += 1
            if got[0] != item["expect"]:
                res.confident_wrong.append((item["q"], item["expect"], got[0]))
        if item["expect"] not in got:
            res.misses.append((item["q"], item["expect"], got))
    return res
