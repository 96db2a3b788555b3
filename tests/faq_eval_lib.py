"""Shared by tests/test_faq_eval.py and bench/faq.py: load the eval splits and measure them per query kind."""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import delete

from storage import faqs
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Archive, Faq, FaqRevision, FaqVote, SearchDoc, UnansweredQuestion

if TYPE_CHECKING:
    from sudachipy import Tokenizer

DATA = Path(__file__).parent / "data" / "faq_eval"
TEAM = "T_EVAL"
# tuning: the part developers may look at while building; frozen: written before the ranking change of #13,
# never looked at while tuning (its bytes are pinned by tests/test_faq_eval.py).
SPLITS = {
    "regression": DATA / "regression.yaml",
    "tuning": DATA / "tuning.yaml",
    "frozen": DATA / "frozen.yaml",
}
KINDS = ("keyword", "kana", "typo", "width", "paraphrase", "sentence")
SENTENCE_CHARS = (40, 120)

# Words Sudachi tags as content but that only frame a question ("教えてください", "どんな場合"), so sharing
# them is not sharing a topic. Sudachi's own 非自立可能 tag already drops する/ある/なる/こと/ため….
FRAMING_WORDS = frozenset(
    {"教える", "知る", "思う", "聞く", "分かる", "良い", "何", "場合", "方法", "時", "件", "感じ"}
)


def load_faq_entries() -> list[dict[str, Any]]:
    return yaml.safe_load((DATA / "faqs.yaml").read_text(encoding="utf-8"))


def load_split(name: str) -> list[dict[str, Any]]:
    """A split's queries: each {q, expect (entry id or None for "no entry answers this"), kind}."""
    return yaml.safe_load(SPLITS[name].read_text(encoding="utf-8"))


async def fresh_db(url: str) -> Database:
    """A migrated database with no knowledge rows (a shared PostgreSQL keeps rows between tests)."""
    db = Database(url)
    await upgrade(db)
    if not db.is_sqlite:
        async with db.write() as session:
            for model in (FaqVote, FaqRevision, UnansweredQuestion, SearchDoc, Archive, Faq):
                await session.execute(delete(model))
    return db


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank) of values; 0 for none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class KindResult:
    total: int = 0
    top1: int = 0
    top3: int = 0
    confident_wrong: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, top1: bool, top3: bool, confident_wrong: bool, ms: float) -> None:
        self.total += 1
        self.top1 += top1
        self.top3 += top3
        self.confident_wrong += confident_wrong
        self.latencies_ms.append(ms)

    def row(self, name: str) -> str:
        return (
            f"  {name:<12}{self.total:>5}{self.top1 / self.total:>8.1%}{self.top3 / self.total:>8.1%}"
            f"{self.confident_wrong:>12}{percentile(self.latencies_ms, 0.5):>9.1f}"
            f"{percentile(self.latencies_ms, 0.95):>9.1f}"
        )


@dataclass
class EvalResult:
    split: str = ""
    total: int = 0
    top1: int = 0
    top3: int = 0
    confident: int = 0
    confident_wrong: list[tuple[str, str | None, str]] = field(default_factory=list)
    misses: list[tuple[str, str | None, list[str]]] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: dict[str, KindResult] = field(default_factory=dict)
    # Queries no entry answers (expect: null); also counted under their kind.
    no_entry: KindResult = field(default_factory=KindResult)

    def p(self, q: float) -> float:
        """The q-quantile of the per-query latency in ms."""
        return percentile(self.latencies_ms, q)

    def table(self) -> str:
        """Top-1/top-3, confident-wrong answers and latency per kind and overall, as printed by tests and bench."""
        overall = KindResult(self.total, self.top1, self.top3, len(self.confident_wrong), self.latencies_ms)
        rows = [(kind, self.by_kind[kind]) for kind in KINDS if kind in self.by_kind]
        rows += [("(no entry)", self.no_entry), ("all", overall)]
        head = f"  {'kind':<12}{'n':>5}{'top-1':>8}{'top-3':>8}{'conf-wrong':>12}{'p50 ms':>9}{'p95 ms':>9}"
        lines = [f"{self.split} split: {self.total} queries, auto-answered {self.confident}", head]
        return "\n".join(lines + [r.row(name) for name, r in rows if r.total])


async def load_entries(db: Database, team_id: str = TEAM) -> dict[int, str]:
    """Import faqs.yaml; returns FAQ row id → eval id."""
    ids: dict[int, str] = {}
    for e in load_faq_entries():
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


async def evaluate(db: Database, ids: dict[int, str], split: str = "tuning", team_id: str = TEAM) -> EvalResult:
    """Run every query of a split through faqs.search. A query no entry answers is right when the search
    does not answer it confidently; a confident answer to it counts as confident-wrong."""
    res = EvalResult(split=split)
    for item in load_split(split):
        expect = item["expect"]
        t0 = time.perf_counter()
        hits = await faqs.search(db=db, team_id=team_id, query=item["q"], limit=3)
        res.latencies_ms.append((time.perf_counter() - t0) * 1000)
        got = [ids.get(h.faq.id, f"#{h.faq.id}") for h in hits]
        confident = bool(hits and hits[0].confident)
        if expect is None:
            top1 = top3 = not confident
        else:
            top1, top3 = got[:1] == [expect], expect in got
        wrong = confident and got[0] != expect
        res.total += 1
        res.top1 += top1
        res.top3 += top3
        res.confident += confident
        if wrong:
            res.confident_wrong.append((item["q"], expect, got[0]))
        if not top3:
            res.misses.append((item["q"], expect, got))
        res.by_kind.setdefault(item["kind"], KindResult()).add(top1, top3, wrong, res.latencies_ms[-1])
        if expect is None:
            res.no_entry.add(top1, top3, wrong, res.latencies_ms[-1])
    return res


@cache
def _tokenizer() -> Tokenizer:
    from sudachipy import Dictionary, SplitMode

    # Mode A (shortest units) so that a compound such as 追加接種 counts as sharing 接種 with its entry.
    return Dictionary(dict="small").tokenizer(SplitMode.A)


def content_words(text: str) -> set[str]:
    """Sudachi-normalised nouns, verbs and adjectives of a text, without light or question-framing words."""
    out = set()
    for m in _tokenizer().tokenize(unicodedata.normalize("NFKC", text)):
        pos = m.part_of_speech()
        if pos[0] not in ("名詞", "動詞", "形容詞", "形状詞") or "非自立可能" in pos or pos[1] == "数詞":
            continue
        word = m.normalized_form()
        if word not in FRAMING_WORDS:
            out.add(word.lower())
    return out


def entry_words(entry: dict[str, Any]) -> set[str]:
    parts = [entry["question"], entry["answer"], *(entry.get("tags") or []), *(entry.get("aliases") or [])]
    return set().union(*(content_words(p) for p in parts))
