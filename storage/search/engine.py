"""Index maintenance and search over `search_docs`: candidates in SQL, ranking in Python.

SQLite: FTS5 (unicode61 over space-separated bigram tokens) first with every term required, then
with any bigram when that finds too little. PostgreSQL: the same tokens matched with LIKE
'% token %' on the pg_trgm-indexed columns. Both hand at most CANDIDATES rows to `rank.score`.
"""

from __future__ import annotations

import json
import math
import re
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from sqlalchemy import case, delete, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SearchDoc
from storage.search import rank
from storage.search.analyzer import doc_tokens, syn_tokens
from storage.search.query import QueryPlan, fts_any_token, fts_relaxed, fts_terms, plan

CANDIDATES = 60  # stop relaxing the query once this many are found
PER_STEP = 120  # rows fetched per step (all of them are re-ranked)
DF_TTL = 300.0  # seconds a looked-up document frequency is trusted (see _DfCache)
DF_MAX = 200_000  # tokens kept per database before the cache starts afresh
NARROW = 4  # the rarest terms that the narrowing steps require together
RELAXED = 6  # the rarest terms (and as many unknown ones) that the typo-tolerant step looks for


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
    _index_changed(session)


async def unindex(session: AsyncSession, *, team_id: str, kind: str, ref_id: int) -> None:
    await session.execute(
        delete(SearchDoc).where(
            SearchDoc.team_id == team_id,
            SearchDoc.kind == kind,
            SearchDoc.ref_id == ref_id,
        )
    )
    _index_changed(session)


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


def _somewhere(t, idf: dict[str, float]) -> bool:
    """Whether some document can hold the term: a spelling whose every bigram is in the index, or a synonym
    group. (A one-character word is a prefix query, which the vocabulary lookup does not see: assumed yes.)"""
    return any(all(x in idf or len(x) == 1 for x in alt) for alt in t.alts) or any(g in idf for g in t.groups)


def _rarity(t, idf: dict[str, float]) -> float:
    """The IDF of the term's most specific spelling; a one-character word (a prefix query, no IDF known)
    matches many bigrams, so it comes last."""
    return max(min(idf.get(x, 99.0) if len(x) > 1 else 0.0 for x in alt) for alt in t.alts)


async def _sqlite_candidates(session, team_id: str, kind: str, p: QueryPlan, idf: dict[str, float]) -> list:
    """Narrow first, then relax: the rarest NARROW terms in the question, then anywhere, then one term fewer,
    and so on; finally tolerate a typo. Stops once enough candidates are found.

    Terms no document holds are left out of the narrowing steps (each would make every AND empty: a long DM
    nearly always has a word no entry uses), and so are all but the NARROW rarest, which is what tells an
    entry apart; the ranking still weighs every term."""
    present = sorted((t for t in p.terms if _somewhere(t, idf)), key=lambda t: -_rarity(t, idf))
    terms = present[:NARROW]
    steps: list[str] = []
    for k in range(len(terms), 0, -1):
        steps += [fts_terms(terms[:k], column="q"), fts_terms(terms[:k])]
    # The typo-tolerant step ORs every spelling of a term with one bigram dropped: over a long DM's dozen
    # terms that is a hundred branches, so only its rarest terms and those no entry holds (typos) take part.
    absent = [t for t in p.terms if t not in present]
    relaxed = replace(p, terms=tuple(present[:RELAXED] + absent[:RELAXED]))
    steps = [*steps, fts_relaxed(relaxed), fts_any_token(p)]
    rows: dict[int, tuple] = {}
    for i, match in enumerate(steps):
        for r in await _sqlite_rows(session, team_id, kind, match, PER_STEP):
            rows.setdefault(r[0], tuple(r))
        # Enough, or a handful that contain every term, or anything once typos are tolerated.
        if len(rows) >= CANDIDATES or (i == 1 and len(rows) >= 5) or (i == len(steps) - 2 and rows):
            break
    return list(rows.values())


class _DfCache:
    """Document frequencies already looked up, per database, for DF_TTL seconds or until the index changes.

    Looking a token up in FTS5's vocabulary reads its whole doclist (a common bigram in 100,000 entries costs
    milliseconds) and IDF needs only an approximate figure, so each token is read once a while; a write through
    `index`/`unindex` in this process starts afresh at once (another process's writes are seen within DF_TTL).
    """

    def __init__(self) -> None:
        self.df: dict[str, int] = {}
        self.n = 1
        self.born = time.monotonic()


_df_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _df_cache(session: AsyncSession) -> _DfCache:
    bind = session.bind.sync_engine if hasattr(session.bind, "sync_engine") else session.bind
    cache = _df_caches.get(bind)
    if cache is None or time.monotonic() - cache.born > DF_TTL or len(cache.df) > DF_MAX:
        cache = _df_caches[bind] = _DfCache()
    return cache


def _index_changed(session: AsyncSession) -> None:
    bind = session.bind.sync_engine if hasattr(session.bind, "sync_engine") else session.bind
    _df_caches.pop(bind, None)


async def _sqlite_df(session, tokens: set[str]) -> tuple[dict[str, int], int]:
    """Document frequencies of the query's tokens and the number of documents, in one round trip for the
    tokens not known yet (see _DfCache); a token absent from the index is known as 0.

    The number of documents is the largest id: count(*) reads a whole index (O(N) at 100,000 entries) and
    IDF does not need the exact figure. The first row carries it under the empty term, which no token is.
    """
    if not tokens:
        return {}, 1
    cache = _df_cache(session)
    # Only tokens found are kept: one absent now may be in an entry another process imports next (and
    # looking up an absent token is cheap; a common one is what costs).
    missing = tokens - cache.df.keys()
    if missing or not cache.df:
        rows = list(
            await session.execute(
                text(
                    "SELECT '', coalesce(max(id), 1) FROM search_docs UNION ALL"
                    " SELECT term, doc FROM search_fts_vocab WHERE term IN (SELECT value FROM json_each(:j))"
                ),
                {"j": json.dumps(sorted(missing), ensure_ascii=False)},
            )
        )
        cache.df.update({r[0]: int(r[1]) for r in rows if r[0]})
        cache.n = max(next((int(r[1]) for r in rows if not r[0]), 1), 1)
    return {t: cache.df[t] for t in tokens if t in cache.df}, cache.n


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
    """Document frequencies by one scan of search_docs, for the tokens not known yet (see _DfCache; here an
    absent token is kept as 0 too: PostgreSQL's candidates do not depend on it, only its IDF does)."""
    toks, groups = sorted(p.tokens())[:64], p.groups()
    cache = _df_cache(session)
    missing = [t for t in toks if t not in cache.df]
    if missing:
        cols = [func.count().filter(_pg_has(t, groups)) for t in missing]
        row = (await session.execute(select(func.max(SearchDoc.id), *cols).select_from(SearchDoc))).one()
        cache.df.update({t: int(c) for t, c in zip(missing, row[1:], strict=True)})
        cache.n = max(int(row[0] or 1), 1)
    return {t: cache.df[t] for t in toks}, cache.n


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
