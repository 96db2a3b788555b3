"""Ranking: how much of the question's information a document covers, and how sure we are.

For each query term we take its best spelling (surface, reading, romaji) and measure the share of
its bigrams' IDF found in the document (question side counts fully, answer side 0.6, a shared
Sudachi synonym group 0.75). Terms are weighted by IDF, so rare words decide and 2-character
keywords still count; a typo (防災訓連) still matches two of three bigrams. The total is in [0, 1]:
1 means every term was found in the question, aliases or tags. BM25 on the SQL side only picks
candidates; this score is comparable across queries, which a confidence threshold needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from storage.search.query import QueryPlan

ANSWER_WEIGHT = 0.6
SYNONYM_WEIGHT = 0.75
PRECISION_WEIGHT = 0.08
PRIOR_WEIGHT = 0.05
AUTO_ANSWER_THRESHOLD = 0.6


@dataclass(frozen=True)
class Score:
    total: float
    question_coverage: float  # the share of the query found on the question side


@dataclass(frozen=True)
class _Alt:
    tokens: tuple[tuple[str, float], ...]  # (bigram, idf)
    total: float


@dataclass(frozen=True)
class Prepared:
    """The query's terms with their IDF weights: computed once, then every candidate is scored."""

    terms: tuple[tuple[float, tuple[_Alt, ...], frozenset[str], tuple[frozenset[str], ...]], ...]
    grams: frozenset[str]


def prepare(p: QueryPlan, idf: dict[str, float], default_idf: float) -> Prepared:
    terms = []
    grams: set[str] = set()
    for t in p.terms:
        alts = tuple(
            _Alt(tuple((x, idf.get(x, default_idf)) for x in alt), sum(idf.get(x, default_idf) for x in alt))
            for alt in t.alts
        )
        # IDF per bigram, grown with the length of the word (会計年度任用職員 says more than 人).
        weight = t.term.weight * max(a.total / len(a.tokens) * math.sqrt(len(a.tokens)) for a in alts)
        word_groups = tuple(frozenset(f"s{g}" for g in w) for w in t.term.groups)
        terms.append((weight, alts, t.groups, word_groups))
        for alt in t.alts:
            grams |= alt
    return Prepared(tuple(terms), frozenset(grams))


def _has(token: str, doc: set[str]) -> bool:
    if len(token) == 1:  # a one-character word: any bigram that starts with it
        return any(t.startswith(token) for t in doc)
    return token in doc


def _coverage(alt: _Alt, doc: set[str]) -> float:
    """Share of the spelling's IDF found in the document, squared: half a word is weak evidence."""
    if alt.total <= 0:
        return 0.0
    return (sum(w for x, w in alt.tokens if _has(x, doc)) / alt.total) ** 2


def score(p: Prepared, q: str, a: str, s: str, prior: float = 0.0) -> Score:
    """Score one document; `prior` in [-1, 1] comes from 👍/👎 feedback."""
    qset, sset = set(q.split()), set(s.split())
    aset: set[str] | None = None
    num = q_num = den = 0.0
    for weight, alts, groups, word_groups in p.terms:
        cq = max(_coverage(alt, qset) for alt in alts)
        ca = 0.0
        if cq < 1.0:
            aset = aset if aset is not None else set(a.split())
            ca = max(_coverage(alt, aset) for alt in alts)
        cs = 0.0
        # Every word of the term must be matched by synonym, else 職員 alone would stand for 会計年度任用職員.
        if word_groups and groups & sset:
            cs = SYNONYM_WEIGHT * sum(1 for w in word_groups if w & sset) / len(word_groups)
        best_q = max(cq, cs)
        num += weight * max(best_q, ANSWER_WEIGHT * ca)
        q_num += weight * best_q
        den += weight
    if den == 0:
        return Score(0.0, 0.0)
    coverage = num / den
    precision = len(p.grams & qset) / max(len(qset), 1)
    total = coverage * (1 - PRECISION_WEIGHT) + PRECISION_WEIGHT * precision * coverage
    total *= 1 + PRIOR_WEIGHT * max(-1.0, min(1.0, prior))
    return Score(min(total, 1.0), q_num / den)


def confidences(ranked: list[Score]) -> list[float]:
    """How sure the engine is of each result, in [0, 1]: a good match that stands out.

    The first result is confident when it covers most of the query on its question side and is
    clearly ahead of the runner-up; a near tie halves the confidence, so an ambiguous question gets
    "I am not sure" rather than a confident wrong answer.
    """
    out: list[float] = []
    for i, s in enumerate(ranked):
        others = [r.total for j, r in enumerate(ranked[:2]) if j != i] or [0.0]
        margin = min(1.0, max(0.0, s.total - max(others)) / 0.15)
        base = 0.5 * s.total + 0.5 * s.question_coverage
        out.append(max(0.0, min(1.0, base * (0.5 + 0.5 * margin))))
    return out
