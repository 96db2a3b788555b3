"""Index maintenance and search: candidates from the in-process index (storage/search/index.py), ranking in rank.

A write to search_docs stamps the row with its team's next search generation, in the same transaction, so every
process's index sees it before its next search. The candidates come in steps that stop once enough are found:
every one of the rarest terms in the question side, then anywhere, then one term fewer, and so on; then any term
with one bigram missing (a typo); then any bigram. At most CANDIDATES documents go to `rank.score`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SearchDoc, SearchGeneration
from storage.search import rank
from storage.search.analyzer import doc_tokens, syn_tokens
from storage.search.index import Indexes, TeamIndex
from storage.search.query import QueryPlan, TermPlan, plan

CANDIDATES = 60  # stop relaxing the query once this many are found
PER_STEP = 120  # documents kept per step (all of them are re-ranked)
NARROW = 4  # the rarest terms that the narrowing steps require together
RELAXED = 6  # the rarest terms (and as many unknown ones) that the typo-tolerant step looks for

# This process's indexes (one per database engine, team and kind): a cache of what search_docs holds,
# correct whatever other processes write, because every search first reads the generation.
INDEXES = Indexes()


@dataclass(frozen=True)
class Hit:
    ref_id: int
    score: float
    confidence: float


def tokens_for(question_side: str, answer_side: str) -> dict[str, str]:
    """Column values for one document (spaces around so PostgreSQL can LIKE '% token %')."""
    return {
        "q": f" {doc_tokens(question_side, both_readings=True)} ",
        "a": f" {doc_tokens(answer_side)} ",
        "s": f" {syn_tokens(question_side)} ",
    }


def scope_token(team_id: str, kind: str) -> str:
    """The FTS token that names one team's documents of one kind (letters and digits only)."""
    return "z" + re.sub(r"[^0-9a-z]", "", f"{kind}z{team_id}".lower())


async def index(
    session: AsyncSession,
    *,
    team_id: str,
    kind: str,
    ref_id: int,
    question_side: str,
    answer_side: str,
) -> None:
    values = tokens_for(question_side, answer_side) | {"scope": scope_token(team_id, kind)}
    row = await session.scalar(
        select(SearchDoc).where(
            SearchDoc.team_id == team_id,
            SearchDoc.kind == kind,
            SearchDoc.ref_id == ref_id,
        )
    )
    if row is not None and (row.q, row.a, row.s, row.scope) == (values["q"], values["a"], values["s"], values["scope"]):
        return
    version = await bump(session, team_id, kind)
    if row is None:
        session.add(SearchDoc(team_id=team_id, kind=kind, ref_id=ref_id, version=version, **values))
    else:
        row.q, row.a, row.s, row.scope, row.version = values["q"], values["a"], values["s"], values["scope"], version
    await session.flush()
    INDEXES.touch_after_commit(session, team_id, kind)


async def unindex(session: AsyncSession, *, team_id: str, kind: str, ref_id: int) -> None:
    await session.execute(
        delete(SearchDoc).where(
            SearchDoc.team_id == team_id,
            SearchDoc.kind == kind,
            SearchDoc.ref_id == ref_id,
        )
    )
    await bump(session, team_id, kind, reset=True)
    INDEXES.touch_after_commit(session, team_id, kind)


async def bump(session: AsyncSession, team_id: str, kind: str, *, reset: bool = False) -> int:
    """The team's next search generation (a deletion also counts a reset), in the caller's transaction.

    The upsert locks the generation's row until commit, so two writers of one team take turns and their
    generations commit in order: a reader that sees generation g sees every row stamped up to g."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(SearchGeneration).values(team_id=team_id, kind=kind, generation=1, resets=int(reset))
    stmt = stmt.on_conflict_do_update(
        index_elements=[SearchGeneration.team_id, SearchGeneration.kind],
        set_={
            "generation": SearchGeneration.generation + 1,
            "resets": SearchGeneration.resets + int(reset),
        },
    ).returning(SearchGeneration.generation)
    return int(await session.scalar(stmt))


def _somewhere(t: TermPlan, idf: dict[str, float]) -> bool:
    """Whether some document can hold the term: a spelling whose every bigram is in the index, or a synonym
    group. (A one-character word stands for every bigram it starts: assumed yes.)"""
    return any(all(x in idf or len(x) == 1 for x in alt) for alt in t.alts) or any(g in idf for g in t.groups)


def _rarity(t: TermPlan, idf: dict[str, float]) -> float:
    """The IDF of the term's most specific spelling; a one-character word (many bigrams, no IDF known) comes
    last."""
    return max(min(idf.get(x, 99.0) if len(x) > 1 else 0.0 for x in alt) for alt in t.alts)


def _all_of(ix: TeamIndex, col: str, toks) -> int:
    found = -1
    for tok in sorted(toks, key=len, reverse=True):  # a one-character prefix last: it is the widest
        found &= ix.bits(col, tok)
        if not found:
            return 0
    return found if found != -1 else 0


def _term(ix: TeamIndex, t: TermPlan, col: str) -> int:
    """Documents holding the term in some spelling (every bigram of it) in `col` ("*": anywhere, where a
    synonym group counts too; in the question side only its spellings count, as FTS5's nested column filter
    had it)."""
    found = 0
    for alt in t.alts:
        found |= _all_of(ix, col, alt)
    if col == "*":
        for g in t.groups:
            found |= ix.bits("s", g)
    return found


def _all_terms(ix: TeamIndex, terms, col: str) -> int:
    found = -1
    for t in terms:
        found &= _term(ix, t, col)
        if not found:
            return 0
    return found if found != -1 else 0


def _relaxed(ix: TeamIndex, p: QueryPlan) -> int:
    """Any term with one bigram missing (a typo: 防災訓連 still has 防災 and 災訓) or by synonym."""
    found = 0
    for t in p.terms:
        for alt in t.alts:
            toks = sorted(alt)
            if len(toks) >= 3:
                for drop in toks:
                    found |= _all_of(ix, "*", [x for x in toks if x != drop])
            else:
                for x in toks:
                    found |= ix.bits("*", x)
        for g in t.groups:
            found |= ix.bits("s", g)
    return found


def _any_token(ix: TeamIndex, p: QueryPlan) -> int:
    """Any bigram of any term, or of a kanji word's reading: the fallback that tolerates typos and partial
    matches. Only here do readings of kanji words search (their kana bigrams are common)."""
    found = 0
    for t in p.terms:
        for alt in (*t.alts, *t.weak):
            for x in alt:
                found |= ix.bits("*", x)
        for g in t.groups:
            found |= ix.bits("s", g)
    return found


def _newest(ix: TeamIndex, found: int) -> list[int]:
    """At most PER_STEP of the documents found, newest first (as FTS5's ORDER BY rowid DESC LIMIT had it)."""
    return ix.newest(found, PER_STEP)


def candidates(ix: TeamIndex, p: QueryPlan, idf: dict[str, float]) -> list[int]:
    """Narrow first, then relax: the rarest NARROW terms in the question side, then anywhere, then one term
    fewer, and so on; finally tolerate a typo. Stops once enough candidates are found.

    Terms no document holds are left out of the narrowing steps (each would make every AND empty: a long DM
    nearly always has a word no entry uses), and so are all but the NARROW rarest, which is what tells an
    entry apart; the ranking still weighs every term."""
    present = sorted((t for t in p.terms if _somewhere(t, idf)), key=lambda t: -_rarity(t, idf))
    terms = present[:NARROW]
    steps: list[Callable[[], int]] = []
    for k in range(len(terms), 0, -1):
        steps += [lambda k=k: _all_terms(ix, terms[:k], "q"), lambda k=k: _all_terms(ix, terms[:k], "*")]
    # The typo-tolerant step takes every spelling of a term with one bigram dropped: over a long DM's dozen
    # terms that is a hundred branches, so only its rarest terms and those no entry holds (typos) take part.
    absent = [t for t in p.terms if t not in present]
    relaxed = replace(p, terms=tuple(present[:RELAXED] + absent[:RELAXED]))
    steps += [lambda: _relaxed(ix, relaxed), lambda: _any_token(ix, p)]
    slots: dict[int, None] = {}
    for i, step in enumerate(steps):
        for slot in _newest(ix, step()):
            slots.setdefault(slot)
        # Enough, or a handful that contain every term, or anything once typos are tolerated.
        if len(slots) >= CANDIDATES or (i == 1 and len(slots) >= 5) or (i == len(steps) - 2 and slots):
            break
    return list(slots)


@lru_cache(maxsize=2048)
def _plan(query: str) -> QueryPlan:
    """The analysed query (Sudachi, readings, synonyms): members ask the same questions again and again."""
    return plan(query)


async def search(
    session: AsyncSession,
    *,
    team_id: str,
    kind: str,
    query: str,
    priors: Callable[[list[int]], Awaitable[dict[int, float]]] | None = None,
    limit: int = 10,
) -> list[Hit]:
    """Best documents for `query`, scored in [0, 1], each with an auto-answer confidence."""
    p = _plan(query or "")
    if p.empty:
        return []
    ix = await INDEXES.get(session, team_id, kind)
    n = max(ix.n, 1)
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t in p.tokens() if (d := ix.df.get(t))}
    default_idf = math.log(1 + (n + 0.5) / 0.5)
    slots = candidates(ix, p, idf)
    rows = [(ix.refs[slot], *ix.docs[slot]) for slot in slots]
    prepared = rank.prepare(p, idf, default_idf)
    scored = [(ref_id, rank.score(prepared, q, a, s)) for ref_id, q, a, s in rows]
    scored = [x for x in scored if x[1].total > 0]  # a candidate none of whose terms matched is no result
    scored.sort(key=lambda x: -x[1].total)
    if priors and scored:
        # 👍/👎 move a score by at most PRIOR_WEIGHT either way: only the documents that could then reach the
        # first `limit` need theirs (the repository reads them with the rows it shows anyway).
        kth = scored[min(limit, len(scored)) - 1][1].total
        floor = kth * (1 - rank.PRIOR_WEIGHT) / (1 + rank.PRIOR_WEIGHT)
        near = [ref_id for ref_id, sc in scored if sc.total >= floor]
        prior = await priors(near)
        by_ref = {r[0]: r for r in rows}
        scored = [
            (ref_id, rank.score(prepared, *by_ref[ref_id][1:], prior.get(ref_id, 0.0)) if ref_id in prior else sc)
            for ref_id, sc in scored
        ]
        scored.sort(key=lambda x: -x[1].total)
    confidences = rank.confidences([s for _, s in scored])
    return [
        Hit(ref_id, round(s.relevance, 4), round(c, 4))
        for (ref_id, s), c in zip(scored[:limit], confidences, strict=False)
    ]
