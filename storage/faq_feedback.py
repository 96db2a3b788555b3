"""FAQ feedback and gaps: 👍/👎 votes (one per member per entry), unanswered questions, weak entries.

Re-exported by storage.faqs; kept apart so each file stays short.
"""

from __future__ import annotations

from sqlalchemy import select

from storage import search as engine
from storage.db import Database
from storage.models import Faq, FaqAsker, FaqVote, UnansweredQuestion
from storage.sql import claimed
from storage.types import utcnow


def _unanswered_key(question: str) -> str:
    k = engine.key(question) or question.strip()
    return k[:255]


async def record_feedback(*, db: Database, team_id: str, faq_id: int, user_id: str, helpful: bool) -> tuple[int, int]:
    """Store or change a member's vote; returns the entry's (helpful, unhelpful) counts."""
    vote = 1 if helpful else -1
    async with db.write() as session:
        faq = await session.scalar(select(Faq).where(Faq.team_id == team_id, Faq.id == faq_id))
        if faq is None:
            raise LookupError(f"no FAQ entry {faq_id}")
        row = await session.scalar(select(FaqVote).where(FaqVote.faq_id == faq_id, FaqVote.user_id == user_id))
        if row is None:
            session.add(FaqVote(team_id=team_id, faq_id=faq_id, user_id=user_id, vote=vote))
        elif row.vote != vote:
            row.vote, row.at = vote, utcnow()
        else:
            return faq.helpful, faq.unhelpful
        await session.flush()
        votes = list(await session.scalars(select(FaqVote.vote).where(FaqVote.faq_id == faq_id)))
        faq.helpful = sum(1 for v in votes if v > 0)
        faq.unhelpful = sum(1 for v in votes if v < 0)
        return faq.helpful, faq.unhelpful


async def log_unanswered(*, db: Database, team_id: str, question: str) -> UnansweredQuestion | None:
    """Count a question nobody could answer (only its text is kept, never who asked)."""
    text = " ".join(engine.strip_question(question).split())[:1000]
    if not text:
        return None
    qkey = _unanswered_key(text)
    async with db.write() as session:
        row = await session.scalar(
            select(UnansweredQuestion).where(UnansweredQuestion.team_id == team_id, UnansweredQuestion.qkey == qkey)
        )
        if row is None:
            row = UnansweredQuestion(team_id=team_id, qkey=qkey, question=text)
            session.add(row)
        else:
            row.count += 1
            row.last_asked_at = utcnow()
            row.resolved_faq_id = None
        await session.flush()
        return row


async def get_unanswered(*, db: Database, team_id: str, unanswered_id: int) -> UnansweredQuestion | None:
    async with db.read() as session:
        return await session.scalar(
            select(UnansweredQuestion).where(
                UnansweredQuestion.team_id == team_id, UnansweredQuestion.id == unanswered_id
            )
        )


async def resolve_unanswered(*, db: Database, team_id: str, unanswered_id: int, faq_id: int) -> None:
    """Mark a logged question as answered by an entry (it leaves the report)."""
    async with db.write() as session:
        row = await session.scalar(
            select(UnansweredQuestion).where(
                UnansweredQuestion.team_id == team_id, UnansweredQuestion.id == unanswered_id
            )
        )
        if row is not None:
            row.resolved_faq_id = faq_id


async def add_asker(session, *, team_id: str, unanswered_id: int, user_id: str) -> FaqAsker | None:
    """Remember who forwarded a question (inside the caller's transaction); None when they already had."""
    if not await claimed(session, FaqAsker, team_id=team_id, unanswered_id=unanswered_id, user_id=user_id):
        return None
    return await session.scalar(
        select(FaqAsker).where(FaqAsker.unanswered_id == unanswered_id, FaqAsker.user_id == user_id)
    )


async def askers(session, *, team_id: str, unanswered_id: int) -> list[FaqAsker]:
    """Everyone who forwarded this question, first asker first."""
    rows = await session.scalars(
        select(FaqAsker)
        .where(FaqAsker.team_id == team_id, FaqAsker.unanswered_id == unanswered_id)
        .order_by(FaqAsker.id)
    )
    return list(rows)


async def top_unanswered(*, db: Database, team_id: str, limit: int = 10) -> list[UnansweredQuestion]:
    async with db.read() as session:
        rows = await session.scalars(
            select(UnansweredQuestion)
            .where(
                UnansweredQuestion.team_id == team_id,
                UnansweredQuestion.resolved_faq_id.is_(None),
            )
            .order_by(UnansweredQuestion.count.desc(), UnansweredQuestion.last_asked_at.desc())
            .limit(limit)
        )
        return list(rows)


async def least_helpful(*, db: Database, team_id: str, limit: int = 10, min_votes: int = 1) -> list[Faq]:
    """Entries with the most 👎 relative to 👍 (only those with at least `min_votes` 👎)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Faq)
            .where(Faq.team_id == team_id, Faq.unhelpful >= min_votes)
            .order_by((Faq.unhelpful - Faq.helpful).desc(), Faq.unhelpful.desc(), Faq.id)
            .limit(limit)
        )
        return list(rows)
