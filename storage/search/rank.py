"""Ranking: how much evidence a document holds for the question, how much of the entry it explains, how sure.

Each query term (a content word; particles, auxiliaries and framing such as 教えてください are gone) is
weighted by the IDF of its bigrams, grown with its length. A document's evidence for a term is the share of
that weight found in it: on the question side (question, aliases, tags) fully, on the answer side at 0.6, by
a shared Sudachi synonym group at 0.75, by reading alone (a kanji typo: 問心票 ~ 問診票) at 0.5. Summed over
the terms, as BM25 does, a document that holds more of a long question ranks higher, and a term missing from
every candidate costs them all the same, so a fuller question is never punished for its extra words.

The score in [0, 1] mixes that query coverage with the share of the entry's question-side tokens the question
explains (its words and their readings): a long DM that restates one entry scores high on the second even when
half of its words are context. The auto-answer confidence needs both a good match and a clear margin over the
runner-up, so an ambiguous question gets "I am not sure" rather than a confident wrong answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from storage.search.query import QueryPlan

ANSWER_WEIGHT = 0.6
SYNONYM_WEIGHT = 0.75
READING_WEIGHT = 0.5
ENTRY_WEIGHT = 0.2  # share of the score that says how much of the entry the question explains
EXPLAINED_WEIGHT = 0.8  # the relevance of a document the question explains entirely
PRIOR_WEIGHT = 0.05
AUTO_ANSWER_THRESHOLD = 0.6
MARGIN = 0.2  # a lead over the runner-up this large (in score) counts as a clear one


@dataclass(frozen=True)
class Score:
    total: float  # what the results are ordered by
    question_coverage: float  # the share of the query found on the question side
    entry_coverage: float = 0.0  # the share of the entry's question side the query explains

    @property
    def relevance(self) -> float:
        """The score shown and filtered on (handlers hide hits under 0.3): the ordering score, or more when
        the question explains most of the entry, so a long DM's extra context does not hide its one match.
        Not used for ordering: on tuning.yaml, ordering by it loses sentence top-1 (90.9 % → 80.3 %)."""
        return max(self.total, EXPLAINED_WEIGHT * self.entry_coverage)


@dataclass(frozen=True)
class _Alt:
    tokens: tuple[tuple[str, float], ...]  # (bigram, idf)
    total: float


@dataclass(frozen=True)
class _Term:
    weight: float
    alts: tuple[_Alt, ...]
    weak: tuple[_Alt, ...]
    groups: frozenset[str]
    word_groups: tuple[frozenset[str], ...]
    # Every token of its spellings (and of its weak readings): a document holding none of them is skipped
    # without adding anything up (most terms of a long question are absent from most candidates).
    spelled: frozenset[str] = frozenset()
    weakly: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Prepared:
    """The query's terms with their IDF weights: computed once, then every candidate is scored."""

    terms: tuple[_Term, ...]
    echo: frozenset[str]
    words: frozenset[str]
    singles: bool  # some spelling has a one-character word


def _alt(tokens: frozenset[str], idf: dict[str, float], default_idf: float) -> _Alt:
    # A one-character word is looked up as "^c" (see _tokens) but weighed by its own IDF.
    pairs = tuple(("^" + x if len(x) == 1 else x, idf.get(x, default_idf)) for x in tokens)
    return _Alt(pairs, sum(w for _, w in pairs))


def prepare(p: QueryPlan, idf: dict[str, float], default_idf: float) -> Prepared:
    terms = []
    for t in p.terms:
        alts = tuple(_alt(alt, idf, default_idf) for alt in t.alts)
        weak = tuple(_alt(alt, idf, default_idf) for alt in t.weak)
        # IDF per bigram, grown with the length of the word (会計年度任用職員 says more than 人).
        weight = t.term.weight * max(a.total / len(a.tokens) * math.sqrt(len(a.tokens)) for a in alts)
        word_groups = tuple(frozenset(f"s{g}" for g in w) for w in t.term.groups)
        spelled = frozenset(x for alt in alts for x, _ in alt.tokens)
        weakly = frozenset(x for alt in weak for x, _ in alt.tokens)
        terms.append(_Term(weight, alts, weak, t.groups, word_groups, spelled, weakly))
    singles = any(x.startswith("^") for t in terms for a in (*t.alts, *t.weak) for x, _ in a.tokens)
    return Prepared(tuple(terms), p.echo, p.words, singles)


@lru_cache(maxsize=32768)
def _split(text: str) -> frozenset[str]:
    # Cached: the same entries come back as candidates query after query, and splitting a long answer
    # column costs more than scoring it.
    return frozenset(text.split())


@lru_cache(maxsize=32768)
def _with_heads(text: str) -> frozenset[str]:
    toks = _split(text)
    return toks | {"^" + t[0] for t in toks}


@lru_cache(maxsize=32768)
def _doc_words(text: str) -> frozenset[str]:
    return frozenset(x for x in _split(text) if x[0] == "w")


def _tokens(text: str, singles: bool) -> tuple[frozenset[str], frozenset[str]]:
    """A document column's tokens, and (when the query has a one-character word) the same with each first
    character as "^c", so that such a word (any bigram that starts with it) is a set lookup too."""
    return _split(text), _with_heads(text) if singles else _split(text)


def _coverage(alt: _Alt, doc: frozenset[str]) -> float:
    """Share of the spelling's IDF found in the document, squared: half a word is weak evidence."""
    if alt.total <= 0:
        return 0.0
    return (sum(w for x, w in alt.tokens if x in doc) / alt.total) ** 2


def score(p: Prepared, q: str, a: str, s: str, prior: float = 0.0) -> Score:
    """Score one document; `prior` in [-1, 1] comes from 👍/👎 feedback."""
    qwords, qset = _tokens(q, p.singles)
    sset = _split(s)
    aset: frozenset[str] | None = None
    num = q_num = den = 0.0
    for t in p.terms:
        cq = 0.0 if t.spelled.isdisjoint(qset) else max(_coverage(alt, qset) for alt in t.alts)
        ca = 0.0
        if cq < 1.0:
            aset = aset if aset is not None else _tokens(a, p.singles)[1]
            if not t.spelled.isdisjoint(aset):
                ca = max(_coverage(alt, aset) for alt in t.alts)
        cs = cr = 0.0
        # Every word of the term must be matched by synonym, else 職員 alone would stand for 会計年度任用職員.
        if t.word_groups and t.groups & sset:
            cs = SYNONYM_WEIGHT * sum(1 for w in t.word_groups if w & sset) / len(t.word_groups)
        if t.weak and cq < READING_WEIGHT and not t.weakly.isdisjoint(qset):
            # The whole reading, or nothing: a few shared kana bigrams (れんらくもう ~ くんれん) are noise.
            cr = READING_WEIGHT * max(_coverage(alt, qset) >= 1.0 for alt in t.weak)
        best_q = max(cq, cs, cr)
        num += t.weight * max(best_q, ANSWER_WEIGHT * ca)
        q_num += t.weight * best_q
        den += t.weight
    if den == 0:
        return Score(0.0, 0.0)
    coverage = num / den
    # How much of the entry the query explains: its content words (when indexed with them) and its
    # question-side bigrams, which readings and romaji reach too (けんじんかい explains 県人会).
    echo = len(p.echo & qwords) / max(len(qwords), 1)
    doc_words = _doc_words(s)
    entry = (len(p.words & doc_words) / len(doc_words) + echo) / 2 if doc_words else echo
    entry = min(1.0, entry) if coverage > 0 else 0.0
    total = (1 - ENTRY_WEIGHT) * coverage + ENTRY_WEIGHT * entry
    total *= 1 + PRIOR_WEIGHT * max(-1.0, min(1.0, prior))
    return Score(min(total, 1.0), q_num / den, entry)


def confidences(ranked: list[Score]) -> list[float]:
    """How sure the engine is of each result, in [0, 1]: a good match that stands out.

    Good: the entry's question side holds the query, or the query explains the entry (a long DM that restates
    one entry). Stands out: ahead of the runner-up by MARGIN or more; a near tie gives no confidence at all.
    """
    out: list[float] = []
    for i, s in enumerate(ranked):
        others = [r.total for j, r in enumerate(ranked[:2]) if j != i] or [0.0]
        margin = min(1.0, max(0.0, s.total - max(others)) / MARGIN)
        out.append(max(0.0, min(1.0, max(s.question_coverage, s.entry_coverage) * margin)))
    return out
