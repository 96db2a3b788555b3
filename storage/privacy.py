"""APPI: everything stored about a member (export) and its erasure (forget), keeping an anonymous statistic.

What the erase keeps, and why: an approved member's row stays as status "anonymous" with its Slack id
replaced by `anon:<row id>`, keeping only what the directory statistics need — prefecture, organisation
type and municipality code (a government, not a person) — and its dates cut to the month. Name,
department, title, interests, rejection reason, approver, lead flag and channel placement are erased;
a member never approved leaves no row. Section memberships, programme subscriptions, FAQ votes and queued
messages go; message payloads already sent are blanked (their keys stay, so nothing is ever re-sent).
Audit entries are kept but point at the anonymous id; the erase itself is audited with counts only.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import delete, or_, select, update

from storage import audit, intro
from storage import models as m
from storage.db import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

PROFILE_FIELDS = (
    "user_id",
    "status",
    "name",
    "org_type",
    "pref_code",
    "muni_code",
    "department",
    "title",
    "interests",
    "joined_at",
    "left_at",
    "registered_at",
    "approved_at",
    "is_lead",
    "public_servant_confirmed_at",
    "rejected_reason",
    "placed_pref_code",
)


def anon_id(member_id: int) -> str:
    return f"anon:{member_id}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _row(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _plain(getattr(obj, f)) for f in fields}


async def collect(db: Database, *, team_id: str, user_id: str) -> dict[str, Any]:
    """Everything stored about one person, as plain JSON-ready data (empty lists when nothing)."""
    async with db.read() as session:
        member = await session.scalar(select(m.Member).where(m.Member.team_id == team_id, m.Member.user_id == user_id))
        requests = await session.scalars(
            select(m.ApprovalRequest)
            .where(m.ApprovalRequest.team_id == team_id, m.ApprovalRequest.user_id == user_id)
            .order_by(m.ApprovalRequest.id)
        )
        sections = await session.execute(
            select(m.Section.name, m.SectionMember.joined_at)
            .join(m.Section, m.Section.id == m.SectionMember.section_id)
            .where(m.SectionMember.team_id == team_id, m.SectionMember.user_id == user_id)
            .order_by(m.Section.name)
        )
        subscriptions = await session.execute(
            select(m.Program.title, m.ProgramSubscription.created_at)
            .join(m.Program, m.Program.id == m.ProgramSubscription.program_id)
            .where(m.ProgramSubscription.team_id == team_id, m.ProgramSubscription.user_id == user_id)
        )
        votes = await session.execute(
            select(m.Faq.question, m.FaqVote.vote, m.FaqVote.at)
            .join(m.Faq, m.Faq.id == m.FaqVote.faq_id)
            .where(m.FaqVote.team_id == team_id, m.FaqVote.user_id == user_id)
        )
        entries = await session.scalars(
            select(m.AuditEntry)
            .where(m.AuditEntry.team_id == team_id, or_(m.AuditEntry.actor == user_id, m.AuditEntry.subject == user_id))
            .order_by(m.AuditEntry.id)
        )
        messages = await session.scalars(
            select(m.OutboxMessage)
            .where(m.OutboxMessage.team_id == team_id, m.OutboxMessage.kind == "dm", m.OutboxMessage.target == user_id)
            .order_by(m.OutboxMessage.id)
        )
        return {
            "user_id": user_id,
            "profile": _row(member, PROFILE_FIELDS) if member is not None else None,
            "registrations": [_row(r, ("kind", "status", "submitted_at", "decided_at", "reason")) for r in requests],
            "sections": [{"name": n, "joined_at": _plain(at)} for n, at in sections],
            "program_subscriptions": [{"program": t, "since": _plain(at)} for t, at in subscriptions],
            "faq_votes": [{"question": q, "vote": v, "at": _plain(at)} for q, v, at in votes],
            "audit_log": [_row(e, ("action", "actor", "subject", "detail", "at")) for e in entries],
            "introductions": await intro.collect(db, team_id=team_id, user_id=user_id),
            "messages_to_you": [
                {**_row(o, ("key", "status", "created_at", "sent_at")), "text": (o.payload or {}).get("text", "")}
                for o in messages
            ],
        }


@dataclass(frozen=True)
class Forgotten:
    profile: str  # "anonymised" | "deleted" | "none"
    sections: int
    votes: int
    messages: int

    @property
    def anything(self) -> bool:
        return self.profile != "none" or any((self.sections, self.votes, self.messages))


def _month(value: datetime | None, tz: tzinfo) -> datetime | None:
    if value is None:
        return None
    local = value.astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


async def forget(db: Database, *, team_id: str, user_id: str, tz: tzinfo, actor: str | None = None) -> Forgotten:
    """Erase one person's data in one transaction (programme data: storage.programs.forget_member first).

    Idempotent: a second call finds nothing and changes nothing. `actor` None means the person asked.
    """
    now = utcnow()
    async with db.write() as session:
        member = await session.scalar(select(m.Member).where(m.Member.team_id == team_id, m.Member.user_id == user_id))
        anon = anon_id(member.id) if member is not None else None
        request_ids = list(
            await session.scalars(
                select(m.ApprovalRequest.id).where(
                    m.ApprovalRequest.team_id == team_id, m.ApprovalRequest.user_id == user_id
                )
            )
        )
        sections = (
            await session.execute(
                delete(m.SectionMember).where(m.SectionMember.team_id == team_id, m.SectionMember.user_id == user_id)
            )
        ).rowcount
        for section in await session.scalars(select(m.Section).where(m.Section.team_id == team_id)):
            if user_id in (section.leads or []):
                section.leads = [u for u in section.leads if u != user_id]
        votes = (
            await session.execute(delete(m.FaqVote).where(m.FaqVote.team_id == team_id, m.FaqVote.user_id == user_id))
        ).rowcount
        keys = [m.OutboxMessage.target == user_id]
        if member is not None:
            keys += [
                m.OutboxMessage.key.like(f"{p}:{member.id}:%")
                for p in ("greeting", "transfer-greeting", "transfer-dm", "approved-dm", "rejected-dm")
            ]
        keys += [m.OutboxMessage.key == f"approval-card:{rid}" for rid in request_ids]
        keys += [m.OutboxMessage.key == f"registered-dm:{rid}" for rid in request_ids]
        mine = (m.OutboxMessage.team_id == team_id, or_(*keys))
        await session.execute(
            update(m.OutboxMessage)
            .where(*mine, m.OutboxMessage.status.in_(("pending", "sending")))
            .values(status="failed", last_error="erased", locked_until=None)
        )
        messages = (
            await session.execute(update(m.OutboxMessage).where(*mine).values(payload={}, target=anon or "erased"))
        ).rowcount
        # Announcement DMs addressed to them: pending ones are cancelled, and no row keeps their id.
        theirs = (
            m.AnnouncementDelivery.team_id == team_id,
            m.AnnouncementDelivery.kind == "dm",
            m.AnnouncementDelivery.target == user_id,
        )
        await session.execute(
            update(m.AnnouncementDelivery)
            .where(*theirs, m.AnnouncementDelivery.status.in_(("pending", "sending")))
            .values(status="cancelled", last_error="erased", locked_until=None)
        )
        await session.execute(update(m.AnnouncementDelivery).where(*theirs).values(target=anon or "erased"))
        profile = "none"
        if member is not None:
            await session.execute(
                update(m.ApprovalRequest).where(m.ApprovalRequest.id.in_(request_ids)).values(user_id=anon, reason=None)
            )
            await session.execute(
                update(m.AuditEntry)
                .where(m.AuditEntry.team_id == team_id, m.AuditEntry.actor == user_id)
                .values(actor=anon)
            )
            await session.execute(
                update(m.AuditEntry)
                .where(m.AuditEntry.team_id == team_id, m.AuditEntry.subject == user_id)
                .values(subject=anon)
            )
            if member.approved_at is not None:
                profile = "anonymised"
                member.user_id, member.status = anon, "anonymous"
                member.name = member.department = member.title = member.rejected_reason = None
                member.approved_by = member.placed_pref_code = member.public_servant_confirmed_at = None
                member.interests, member.is_lead = [], False
                for column in ("joined_at", "created_at", "registered_at", "approved_at", "left_at"):
                    setattr(member, column, _month(getattr(member, column), tz))
                member.updated_at = now
            else:
                profile = "deleted"
                await session.delete(member)
        result = Forgotten(profile, sections, votes, messages)
        if result.anything:
            audit.record(
                session,
                team_id=team_id,
                actor=actor or anon or "self",
                action="privacy.forgotten",
                subject=anon,
                detail={**asdict(result), "by": "job" if actor else "member"},
            )
    return result


async def left_before(db: Database, *, team_id: str, before: datetime, limit: int = 500) -> list[str]:
    """Slack ids of members who left before `before` and still carry personal data."""
    async with db.read() as session:
        rows = await session.scalars(
            select(m.Member.user_id)
            .where(
                m.Member.team_id == team_id,
                m.Member.left_at.is_not(None),
                m.Member.left_at < before,
                m.Member.status != "anonymous",
            )
            .order_by(m.Member.left_at)
            .limit(limit)
        )
        return list(rows)
