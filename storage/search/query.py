"""Query plans: the analysed terms of a question and the index tokens that count as each of them.

User text never reaches SQL: the plan's tokens are looked up in the in-process index (storage/search/index.py),
so `"`, `*`, `NEAR(`, `OR`, `AND` and emoji are only ever searched for as text.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.search import normalize as nz
from storage.search.analyzer import Term, bigrams, content_words, query_terms, reading, word_token


@dataclass(frozen=True)
class TermPlan:
    """One term and the token sets that each count as a spelling of it."""

    term: Term
    alts: tuple[frozenset[str], ...]  # each: all bigrams of one spelling (surface, reading, romaji)
    groups: frozenset[str]  # synonym group tokens ("s123") of all its words
    weak: tuple[frozenset[str], ...] = ()  # bigrams of readings that only count as weak evidence


@dataclass(frozen=True)
class QueryPlan:
    terms: tuple[TermPlan, ...]
    # Every bigram the question could share with an entry's question side (its words, their readings, the
    # reading of the whole question): the measure of how much of an ENTRY the question explains.
    echo: frozenset[str] = frozenset()
    words: frozenset[str] = frozenset()  # its content words as index tokens (analyzer.word_token)

    @property
    def empty(self) -> bool:
        return not self.terms

    def groups(self) -> frozenset[str]:
        return frozenset().union(*(t.groups for t in self.terms))

    def tokens(self) -> set[str]:
        out: set[str] = set()
        for t in self.terms:
            for alt in t.alts:
                out |= alt
            out |= t.groups
        return out

    def weak_tokens(self) -> set[str]:
        """Bigrams of kanji words' readings: searched only as a last resort (see engine._any_token)."""
        return {x for t in self.terms for alt in t.weak for x in alt}


def plan(query: str) -> QueryPlan:
    plans: list[TermPlan] = []
    for term in query_terms(query or ""):
        spellings = (term.surface, *term.readings, *term.alternatives)
        alts = tuple(dict.fromkeys(frozenset(bigrams(s)) for s in spellings if bigrams(s)))
        if not alts:
            continue
        groups = frozenset(f"s{g}" for gs in term.groups for g in gs)
        weak = tuple(frozenset(bigrams(r)) for r in term.weak_readings if frozenset(bigrams(r)) not in alts)
        plans.append(TermPlan(term, alts, groups, weak))
    if not plans:
        return QueryPlan(())
    echo: set[str] = set()
    for t in plans:
        for alt in (*t.alts, *t.weak):
            echo |= alt
    text = nz.strip_question(query)[:500]
    echo.update(bigrams(reading(text)))
    return QueryPlan(tuple(plans), frozenset(echo), frozenset(word_token(w) for w in content_words(text)))
