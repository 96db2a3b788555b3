"""Query plans: the analysed terms of a question, their index tokens, and safe FTS5 expressions.

User text never reaches FTS5 as syntax: every token is double-quoted (quotes inside doubled), so
`"`, `*`, `NEAR(`, `OR`, `AND` and emoji are only ever searched for as text.
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
        """Bigrams of kanji words' readings: searched only as a last resort (see fts_any_token)."""
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


def quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _token(tok: str) -> str:
    """A quoted token; a one-character word is a prefix query (any bigram starting with it)."""
    return quote(tok) + "*" if len(tok) == 1 else quote(tok)


def _term_expr(t: TermPlan) -> str:
    parts = ["(" + " AND ".join(_token(tok) for tok in sorted(alt)) + ")" for alt in t.alts]
    parts += [f"s : {quote(g)}" for g in sorted(t.groups)]
    return "(" + " OR ".join(parts) + ")"


def fts_terms(terms: list[TermPlan] | tuple[TermPlan, ...], *, column: str | None = None) -> str:
    """Every given term must match in some spelling (or by synonym): the narrowing query."""
    expr = " AND ".join(_term_expr(t) for t in terms)
    return f"{column} : ({expr})" if column else expr


def fts_all_terms(p: QueryPlan) -> str:
    return fts_terms(p.terms)


def fts_relaxed(p: QueryPlan) -> str:
    """Any term with one bigram missing (a typo: 防災訓連 still has 防災 and 災訓) or by synonym."""
    parts: list[str] = []
    for t in p.terms:
        for alt in t.alts:
            toks = sorted(alt)
            if len(toks) >= 3:
                parts += ["(" + " AND ".join(_token(x) for x in toks if x != drop) + ")" for drop in toks]
            else:
                parts += [_token(x) for x in toks]
        parts += [f"s : {quote(g)}" for g in sorted(t.groups)]
    return " OR ".join(dict.fromkeys(parts))


def fts_any_token(p: QueryPlan) -> str:
    """Any bigram of any term, or of a kanji word's reading: the fallback that tolerates typos and partial
    matches. Only here do readings of kanji words search: their kana bigrams are common, so their document
    frequencies are not looked up (they weigh as rare) and the narrower steps never carry them."""
    grams: set[str] = set()
    groups: set[str] = set()
    for t in p.terms:
        for alt in (*t.alts, *t.weak):
            grams |= alt
        groups |= t.groups
    parts = [_token(g) for g in sorted(grams)] + [f"s : {quote(g)}" for g in sorted(groups)]
    return " OR ".join(parts)
