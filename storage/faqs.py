"""FAQ repository: entries with edit history, Japanese search, 👍/👎 feedback and unanswered questions."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from storage import search as engine
from storage.db import Database
from storage.faq_feedback import (
    add_asker,
    askers,
    get_unanswered,
    least_helpful,
    log_unanswered,
    record_feedback,
    resolve_unanswered,
    top_unanswered,
)
from storage.models import Faq, FaqAsker, FaqRevision, UnansweredQuestion

__all__ = [
    "LIMITS",
    "FaqHit",
    "Taught",
    "add_asker",
    "askers",
    "find",
    "get",
    "get_unanswered",
    "history",
    "least_helpful",
    "list_all",
    "list_categories",
    "log_unanswered",
    "question_key",
    "record_feedback",
    "resolve_unanswered",
    "search",
    "teach",
    "too_long",
    "top_unanswered",
    "update",
    "upsert",
]

KIND = "faq"
VISIBILITIES = ("public", "members", "organisers")
FIELDS = (
    "question",
    "answer",
    "tags",
    "category",
    "source",
    "source_url",
    "updated_on",
    "author",
    "visibility",
    "aliases",
)
# One length contract for an entry, whichever way it arrives (import, the organisers' form, teaching): the
# form can hold all of it (the answer across several inputs of Slack's 3,000 characters), so neither the form
# nor an import ever keeps less than was written. Lists count as the form shows them: tags "a, b", aliases
# one a line.
LIMITS = {
    "question": 500,
    "answer": 15_000,
    "tags": 1_000,
    "aliases": 3_000,
    "category": 100,
    "source": 200,
    "source_url": 500,
}
_JOINERS = {"tags": ", ", "aliases": "\n"}
_URL = re.compile(r"<[^>|]*\|?([^>]*)>|https?://\S+")


@dataclass(frozen=True)
class FaqHit:
    faq: Faq
    score: float
    confidence: float

    @property
    def confident(self) -> bool:
        return self.confidence >= engine.AUTO_ANSWER_THRESHOLD


@dataclass(frozen=True)
class Taught:
    """What answering a forwarded question with an entry did."""

    faq: Faq
    question: UnansweredQuestion
    alias: bool  # the question became one of the entry's aliases
    askers: list[FaqAsker]  # everyone who forwarded it: their admin cards show the answer
    tell: list[FaqAsker]  # those not told before: each gets the answer once


def too_long(field: str, value: Any) -> bool:
    """Whether a field's value breaks the length contract (LIMITS)."""
    if field not in LIMITS or value is None:
        return False
    text = _JOINERS.get(field, "").join(value) if isinstance(value, list | tuple) else str(value)
    return len(text) > LIMITS[field]


def question_key(question: str) -> str:
    """The natural key: the folded question without its question ending (は？, ですか …)."""
    k = engine.key(question) or question.strip()
    if len(k) > 200:
        k = k[:180] + "#" + hashlib.sha256(k.encode()).hexdigest()[:16]
    return k


def _snapshot(faq: Faq) -> dict[str, Any]:
    snap = {f: getattr(faq, f) for f in FIELDS}
    snap["updated_on"] = faq.updated_on.isoformat() if faq.updated_on else None
    return snap


def _sides(faq: Faq) -> tuple[str, str]:
    question = "\n".join([faq.question, *faq.aliases, *faq.tags, faq.category or ""])
    answer = "\n".join([_URL.sub(r" \1 ", faq.answer), faq.source or ""])
    return question, answer


def _clean_list(values) -> list[str]:
    return [str(v).strip() for v in (values or []) if str(v).strip()]


async def upsert(
    *,
    db: Database,
    team_id: str,
    question: str,
    answer: str,
    tags: list[str] | tuple[str, ...] = (),
    category: str | None = None,
    source: str | None = None,
    source_url: str | None = None,
    updated_on: date | None = None,
    author: str | None = None,
    visibility: str = "public",
    aliases: list[str] | tuple[str, ...] = (),
    edited_by: str | None = None,
) -> tuple[Faq, str]:
    """Create or update by question; returns (entry, "created" | "updated" | "unchanged").

    An update first stores the previous version in faq_revisions.
    """
    values = _values(
        question=question,
        answer=answer,
        tags=tags,
        category=category,
        source=source,
        source_url=source_url,
        updated_on=updated_on,
        author=author,
        visibility=visibility,
        aliases=aliases,
    )
    question = values["question"]
    qkey = question_key(question)
    async with db.write() as session:
        faq = await session.scalar(select(Faq).where(Faq.team_id == team_id, Faq.qkey == qkey))
        if faq is None:
            faq = Faq(team_id=team_id, qkey=qkey, **values)
            session.add(faq)
            status = "created"
        elif all(getattr(faq, k) == v for k, v in values.items()):
            return faq, "unchanged"
        else:
            _revise(session, faq, values, edited_by)
            status = "updated"
        await session.flush()
        await _index(session, faq)
    return faq, status


async def update(
    *, db: Database, team_id: str, faq_id: int, edited_by: str | None = None, **fields: Any
) -> tuple[Faq, str]:
    """Edit one entry by id (its question may change); the previous version goes to faq_revisions.

    Raises LookupError when there is no such entry and ValueError when the new question is another
    entry's (the natural key must stay unique).
    """
    values = _values(**fields)
    qkey = question_key(values["question"])
    async with db.write() as session:
        faq = await session.scalar(select(Faq).where(Faq.team_id == team_id, Faq.id == faq_id))
        if faq is None:
            raise LookupError(f"no FAQ entry {faq_id}")
        other = await session.scalar(select(Faq.id).where(Faq.team_id == team_id, Faq.qkey == qkey, Faq.id != faq_id))
        if other is not None:
            raise ValueError(f"another entry ({other}) has this question")
        if faq.qkey == qkey and all(getattr(faq, k) == v for k, v in values.items()):
            return faq, "unchanged"
        _revise(session, faq, values, edited_by)
        faq.qkey = qkey
        await session.flush()
        await _index(session, faq)
    return faq, "updated"


async def find(*, db: Database, team_id: str, question: str) -> Faq | None:
    """The entry whose natural key this question has (what upsert would update)."""
    async with db.read() as session:
        return await session.scalar(select(Faq).where(Faq.team_id == team_id, Faq.qkey == question_key(question)))


def _values(
    *,
    question: str,
    answer: str,
    tags=(),
    category=None,
    source=None,
    source_url=None,
    updated_on=None,
    author=None,
    visibility: str = "public",
    aliases=(),
) -> dict[str, Any]:
    question, answer = (question or "").strip(), (answer or "").strip()
    if not question or not answer:
        raise ValueError("question and answer are required")
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    values = {
        "question": question,
        "answer": answer,
        "tags": _clean_list(tags),
        "category": (category or "").strip() or None,
        "source": (source or "").strip() or None,
        "source_url": (source_url or "").strip() or None,
        "updated_on": updated_on,
        "author": (author or "").strip() or None,
        "visibility": visibility,
        "aliases": _clean_list(aliases),
    }
    for field, value in values.items():
        if too_long(field, value):
            raise ValueError(f"{field} is longer than {LIMITS[field]} characters")
    return values


def _revise(session, faq: Faq, values: dict[str, Any], edited_by: str | None) -> None:
    snapshot = _snapshot(faq)
    session.add(
        FaqRevision(team_id=faq.team_id, faq_id=faq.id, revision=faq.revision, snapshot=snapshot, edited_by=edited_by)
    )
    for k, v in values.items():
        setattr(faq, k, v)
    faq.revision += 1


async def _index(session, faq: Faq) -> None:
    q_side, a_side = _sides(faq)
    await engine.index(session, team_id=faq.team_id, kind=KIND, ref_id=faq.id, question_side=q_side, answer_side=a_side)


async def teach(
    session, *, team_id: str, unanswered_id: int, faq_id: int, by: str | None, now: datetime
) -> Taught | None:
    """Answer a logged question with an entry, inside the caller's transaction (who queues the messages).

    The question becomes an alias of the entry (a revision, so it is visible and removable in the edit form)
    unless the entry already says it or its aliases would break the length contract; the question leaves
    the report; its askers not told before are marked told. None when the question or the entry is gone.
    """
    row = await session.scalar(
        select(UnansweredQuestion).where(UnansweredQuestion.team_id == team_id, UnansweredQuestion.id == unanswered_id)
    )
    faq = await session.scalar(select(Faq).where(Faq.team_id == team_id, Faq.id == faq_id))
    if row is None or faq is None:
        return None
    known = {faq.qkey, *(question_key(a) for a in faq.aliases)}
    aliases = [*faq.aliases, row.question]
    alias = question_key(row.question) not in known and not too_long("aliases", aliases)
    if alias:
        _revise(session, faq, {"aliases": aliases}, by)
        await session.flush()
        await _index(session, faq)
    row.resolved_faq_id = faq.id
    everyone = await askers(session, team_id=team_id, unanswered_id=row.id)
    tell = [a for a in everyone if a.answered_at is None]
    for asker in tell:
        asker.answered_faq_id, asker.answered_by, asker.answered_at = faq.id, by, now
    return Taught(faq=faq, question=row, alias=alias, askers=everyone, tell=tell)


async def get(*, db: Database, team_id: str, faq_id: int) -> Faq | None:
    async with db.read() as session:
        return await session.scalar(select(Faq).where(Faq.team_id == team_id, Faq.id == faq_id))


async def history(*, db: Database, team_id: str, faq_id: int) -> list[FaqRevision]:
    """Earlier versions of an entry, oldest first."""
    async with db.read() as session:
        rows = await session.scalars(
            select(FaqRevision)
            .where(FaqRevision.team_id == team_id, FaqRevision.faq_id == faq_id)
            .order_by(FaqRevision.revision)
        )
        return list(rows)


async def list_all(*, db: Database, team_id: str) -> list[Faq]:
    async with db.read() as session:
        return list(await session.scalars(select(Faq).where(Faq.team_id == team_id).order_by(Faq.id)))


async def list_categories(
    *, db: Database, team_id: str, visibilities: tuple[str, ...] = VISIBILITIES
) -> list[tuple[str, int]]:
    """(category, entries at these visibilities), most entries first; entries without one are left out."""
    async with db.read() as session:
        rows = await session.execute(
            select(Faq.category, func.count())
            .where(Faq.team_id == team_id, Faq.category.is_not(None), Faq.visibility.in_(visibilities))
            .group_by(Faq.category)
            .order_by(func.count().desc(), Faq.category)
        )
        return [(c, int(n)) for c, n in rows]


async def search(
    *,
    db: Database,
    team_id: str,
    query: str,
    limit: int = 3,
    visibilities: tuple[str, ...] = ("public", "members"),
) -> list[FaqHit]:
    """Best entries for a question as members type it; each with score and confidence in [0, 1]."""

    async with db.read() as session:
        faqs: dict[int, Faq] = {}

        async def priors(ids: list[int]) -> dict[int, float]:
            # Only the votes of the documents that could reach the results: often every candidate (a short
            # query ties many entries), so not whole rows (loading 120 entries cost ~8 ms of the 11 at 100,000).
            votes = await session.execute(select(Faq.id, Faq.helpful, Faq.unhelpful).where(Faq.id.in_(ids)))
            return {i: (h - u) / (h + u + 3) for i, h, u in votes}

        hits = await engine.search(
            session,
            team_id=team_id,
            kind=KIND,
            query=query,
            priors=priors,
            limit=max(limit * 3, 10),
        )
        if not hits:
            return []
        # The rows that may be shown, read once.
        faqs.update((f.id, f) for f in await session.scalars(select(Faq).where(Faq.id.in_([h.ref_id for h in hits]))))
    out = [
        FaqHit(faqs[h.ref_id], h.score, h.confidence)
        for h in hits
        # by primary key only (a team_id condition would make SQLite walk the team's unique index)
        if h.ref_id in faqs and faqs[h.ref_id].team_id == team_id and faqs[h.ref_id].visibility in visibilities
    ]
    return out[:limit]
