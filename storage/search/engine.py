"""Index maintenance and search over `search_docs`: candidates in SQL, ranking in Python.

SQLite: FTS5 (unicode61 over space-separated bigram tokens) first with every term required, then
with any bigram when that finds too little. PostgreSQL: the same tokens matched with LIKE
'% token %' on the pg_trgm-indexed columns. Both hand at most CANDIDATES rows to `rank.score`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import case, delete, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SearchDoc
from storage.search import rank
from storage.search.analyzer import doc_tokens, syn_tokens
from storage.search.query import QueryPlan, fts_any_token, fts_relaxed, fts_terms, plan

CANDIDATES = 60  # stop relaxing the query once this many are found
PER_STEP = 120  # rows fetched per step (all of them are re-ranked)


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
    if row is None:
        session.add(SearchDoc(team_id=team_id, kind=kind, ref_id=ref_id, **values))
    elif (row.q, row.a, row.s, row.scope) != (values["q"], values["a"], values["s"], values["scope"]):
        row.q, row.a, row.s, row.scope = values["q"], values["a"], values["s"], values["scope"]
    await session.flush()


async def unindex(session: AsyncSession, *, team_id: str, kind: str, ref_id: int) -> None:
    await session.execute(
        delete(SearchDoc).where(
            SearchDoc.team_id == team_id,
            SearchDoc.kind == kind,
            SearchDoc.ref_id == ref_id,
        )
    )


_ROWS_SQL = text(
    "SELECT d.ref_id, d.q, d.a, d.s, d.team_id, d.kind FROM"
    " (SELECT rowid AS r FROM search_fts WHERE search_fts MATCH :m ORDER BY rowid DESC LIMIT :n) f"
    " CROSS JOIN search_docs d ON d.id = f.r"
)


async def _sqlite_rows(session, team_id: str, kind: str, match: str, limit: int) -> list:
    """Newest matching rows of this team and kind.

    No bm25 ordering: FTS5's bm25 costs ~30 µs per matching row (a common word in 100,000 entries
    would take seconds); ranking is done in Python on what we fetch. The LIMIT applies before the
    team filter, so when other teams' (or kinds') rows took places, the query is repeated with the
    scope token, which restricts the MATCH itself (slower on one big team, so not the first try).
    """
    rows = list(await session.execute(_ROWS_SQL, {"m": match, "n": limit}))
    mine = [r[:4] for r in rows if r[4] == team_id and r[5] == kind]
    if len(rows) == limit and len(mine) < len(rows):
        scoped = f'({match}) AND scope : "{scope_token(team_id, kind)}"'
        rows = list(await session.execute(_ROWS_SQL, {"m": scoped, "n": limit}))
        mine = [r[:4] for r in rows if r[4] == team_id and r[5] == kind]
    return mine


async def _sqlite_candidates(session, team_id: str, kind: str, p: QueryPlan, idf: dict[str, float]) -> list:
    """Narrow first, then relax: all terms in the question, all terms anywhere, then drop the most
    common term, and so on; finally tolerate a typo. Stops once enough candidates are found."""
    terms = sorted(p.terms, key=lambda t: -max(min(idf.get(x, 99.0) for x in alt) for alt in t.alts))
    steps: list[str] = []
    for k in range(len(terms), 0, -1):
        steps += [fts_terms(terms[:k], column="q"), fts_terms(terms[:k])]
    steps = [*steps[:8], fts_relaxed(p), fts_any_token(p)]
    rows: dict[int, tuple] = {}
    for i, match in enumerate(steps):
        for r in await _sqlite_rows(session, team_id, kind, match, PER_STEP):
            rows.setdefault(r[0], tuple(r))
        # Enough, or a handful that contain every term, or anything once typos are tolerated.
        if len(rows) >= CANDIDATES or (i == 1 and len(rows) >= 5) or (i == len(steps) - 2 and rows):
            break
    return list(rows.values())


async def _sqlite_df(session, tokens: set[str]) -> tuple[dict[str, int], int]:
    """Document frequencies of the query's tokens and the number of documents, in one round trip.

    The number of documents is the largest id: count(*) reads a whole index (O(N) at 100,000 entries) and
    IDF does not need the exact figure. The first row carries it under the empty term, which no token is.
    """
    if not tokens:
        return {}, 1
    rows = list(
        await session.execute(
            text(
                "SELECT '', coalesce(max(id), 1) FROM search_docs UNION ALL"
                " SELECT term, doc FROM search_fts_vocab WHERE term IN (SELECT value FROM json_each(:j))"
            ),
            {"j": json.dumps(sorted(tokens), ensure_ascii=False)},
        )
    )
    df = {r[0]: int(r[1]) for r in rows if r[0]}
    n = next((int(r[1]) for r in rows if not r[0]), 1)
    return df, max(n, 1)


def _like(tok: str) -> str:
    return "% " + tok.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"


def _pg_has(tok: str, groups: frozenset[str] = frozenset()):
    pattern = _like(tok)
    if tok in groups:
        return SearchDoc.s.like(pattern, escape="\\")
    return SearchDoc.q.like(pattern, escape="\\") | SearchDoc.a.like(pattern, escape="\\")


async def _pg_candidates(session, team_id: str, kind: str, p: QueryPlan, limit: int) -> list:
    """Documents holding the most query tokens; LIKE '% token %' is served by the pg_trgm GIN index."""
    groups = p.groups()
    toks = sorted(p.tokens())[:64]
    toks += sorted(p.weak_tokens() - set(toks))[: 64 - len(toks)]  # readings of kanji words: typos (問心票)
    hits = sum((case((_pg_has(t, groups), 1), else_=0) for t in toks), start=literal(0))
    stmt = (
        select(SearchDoc.ref_id, SearchDoc.q, SearchDoc.a, SearchDoc.s)
        .where(SearchDoc.team_id == team_id, SearchDoc.kind == kind)
        .where(or_(*(_pg_has(t, groups) for t in toks)))
        .order_by(hits.desc())
        .limit(limit)
    )
    return list(await session.execute(stmt))


async def _pg_df(session, p: QueryPlan) -> tuple[dict[str, int], int]:
    toks, groups = sorted(p.tokens())[:64], p.groups()
    cols = [func.count().filter(_pg_has(t, groups)) for t in toks]
    row = (await session.execute(select(func.count(), *cols).select_from(SearchDoc))).one()
    return {t: int(c) for t, c in zip(toks, row[1:], strict=True)}, max(int(row[0]), 1)


async def search(
    session: AsyncSession,
    *,
    dialect: str,
    team_id: str,
    kind: str,
    query: str,
    priors: Callable[[list[int]], Awaitable[dict[int, float]]] | None = None,
    limit: int = 10,
) -> list[Hit]:
    """Best documents for `query`, scored in [0, 1], each with an auto-answer confidence."""
    p = plan(query)
    if p.empty:
        return []
    if dialect == "sqlite":
        df, n = await _sqlite_df(session, p.tokens())
    else:
        df, n = await _pg_df(session, p)
    idf = {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
    if dialect == "sqlite":
        rows = await _sqlite_candidates(session, team_id, kind, p, idf)
    else:
        rows = await _pg_candidates(session, team_id, kind, p, CANDIDATES)
    default_idf = math.log(1 + (n + 0.5) / 0.5)
    prior = await priors([r[0] for r in rows]) if priors and rows else {}
    prepared = rank.prepare(p, idf, default_idf)
    scored = [(ref_id, rank.score(prepared, q, a, s, prior.get(ref_id, 0.0))) for ref_id, q, a, s in rows]
    scored = [x for x in scored if x[1].total > 0]  # a candidate none of whose terms matched is no result
    scored.sort(key=lambda x: -x[1].total)
    confidences = rank.confidences([s for _, s in scored])
    return [
        Hit(ref_id, round(s.relevance, 4), round(c, 4))
        for (ref_id, s), c in zip(scored[:limit], confidences, strict=False)
    ]
