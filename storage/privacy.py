"""APPI: everything stored about a member (export) and its erasure (forget), keeping an anonymous statistic.

What the erase keeps, and why (the confirmation promises it, README lists it): an approved member's row
stays as status "anonymous" with its Slack id replaced by `anon:<row id>`, keeping only prefecture, kind
of government and the month of joining, for the directory statistics. Everything else about them goes:
profile fields, the municipality, section memberships, programme subscriptions, FAQ votes; a member never
approved leaves no row. Messages to them are blanked; our posts that showed them are rewritten to a
neutral text in the table and in Slack (a chat.update queued in the outbox). Where a Slack id or DM
channel id made a key unique (outbox keys, delivery targets) a keyed hash takes its place, so the rows
stay unique and nothing is ever re-sent. Audit entries are kept but point at the anonymous id; the erase
itself is audited with counts only.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import Text, cast, delete, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit, disaster, events, intro
from storage import models as m
from storage.community import CommunityProfile, shipped
from storage.db import Database
from storage.directory import government_of
from storage.outbox import DUE_AT_ONCE
from storage.sql import claimed
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


# The typed column that holds a built-in field's answer, by field kind or key (the rest are in answers).
_COLUMN_BY_KIND = {"prefecture": "pref_code", "municipality": "muni_code", "sections": "interests"}
_COLUMN_BY_KEY = {"name": "name", "org_type": "org_type", "department": "department", "title": "title"}


def answered_fields(member: m.Member, profile: CommunityProfile, language: str) -> list[dict[str, Any]]:
    """Each answered registration field with its label and purpose (APPI: why it is kept), in form order;
    answers to fields the profile no longer lists follow under their key."""
    out: list[dict[str, Any]] = []
    extra = dict(member.answers or {})
    for f in profile.fields:
        column = _COLUMN_BY_KIND.get(f.kind) or _COLUMN_BY_KEY.get(f.key)
        # An answer too long for its typed column is kept whole in answers: that one is the member's.
        value = extra.pop(f.key, None) if f.key in extra or not column else getattr(member, column)
        if value in (None, "", [], False):
            continue
        purpose = f.purpose(language) if f.purpose else None
        out.append({"key": f.key, "label": f.label(language), "purpose": purpose, "value": _plain(value)})
    out.extend({"key": k, "label": k, "purpose": None, "value": _plain(v)} for k, v in extra.items())
    return out


async def collect(
    db: Database, *, team_id: str, user_id: str, profile: CommunityProfile | None = None, language: str = "ja"
) -> dict[str, Any]:
    """Everything stored about one person, as plain JSON-ready data (empty lists when nothing).

    `profile` (the community's, default the built-in one) names each registration answer and its purpose."""
    profile = profile or shipped()
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
        forwarded = await session.execute(
            select(m.UnansweredQuestion.question, m.FaqAsker.asked_at, m.FaqAsker.answered_at)
            .join(m.UnansweredQuestion, m.UnansweredQuestion.id == m.FaqAsker.unanswered_id)
            .where(m.FaqAsker.team_id == team_id, m.FaqAsker.user_id == user_id)
            .order_by(m.FaqAsker.id)
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
            "registration_answers": answered_fields(member, profile, language) if member is not None else [],
            "consent": {"version": member.consent_version, "at": _plain(member.consent_at)}
            if member is not None and member.consent_version
            else None,
            "registrations": [_row(r, ("kind", "status", "submitted_at", "decided_at", "reason")) for r in requests],
            "sections": [{"name": n, "joined_at": _plain(at)} for n, at in sections],
            "program_subscriptions": [{"program": t, "since": _plain(at)} for t, at in subscriptions],
            "faq_votes": [{"question": q, "vote": v, "at": _plain(at)} for q, v, at in votes],
            "faq_questions_forwarded": [
                {"question": q, "asked_at": _plain(at), "answered_at": _plain(done)} for q, at, done in forwarded
            ],
            "audit_log": [_row(e, ("action", "actor", "subject", "detail", "at")) for e in entries],
            "introductions": await intro.collect(db, team_id=team_id, user_id=user_id),
            "disaster_checkins": await disaster.collect(db, team_id=team_id, user_id=user_id),
            # Sign-ups (with the waitlist place), cancellations and survey answers (storage/events.py).
            "events": await events.collect(db, team_id=team_id, user_id=user_id),
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


@dataclass(frozen=True)
class Person:
    """What identified the member in a post of ours, so a rewrite can take it out."""

    user_id: str
    name: str | None = None
    department: str | None = None
    title: str | None = None


# (key, payload, person) -> (neutral payload, still worth sending if not sent yet). Given by the caller, who
# knows the catalogue and the Block Kit builders (storage knows neither).
Neutral = Callable[[str, dict[str, Any], Person], tuple[dict[str, Any], bool]]
# A Slack id or DM channel id -> the token that replaces it where a value must stay unique (a keyed hash).
Pseudonym = Callable[[str], str]

# Keys of the messages about one member that name the member's row, not their Slack id.
MEMBER_KEYS = (
    "greeting",
    "transfer-greeting",
    "transfer-dm",
    "approved-dm",
    "rejected-dm",
    "placed-greeting",
    "placed-dm",
    "placement",
    "placement-report",
)
ERASED = "erased"


def _month(value: datetime | None, tz: tzinfo) -> datetime | None:
    if value is None:
        return None
    local = value.astimezone(tz)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _anonymise(member: m.Member, anon: str, tz: tzinfo) -> None:
    """Keep what the confirmation promises — prefecture, kind of government, month of joining — and nothing more.

    The kind of government goes into org_type (city, ward, town, village, prefecture, national, other): the
    municipality code that told it is not kept. Every date becomes that one month (the columns that must
    not be empty included); left_at stays empty or that month, only to say the member had left.
    """
    month = _month(member.approved_at, tz)
    _, kind = government_of(member.org_type, member.pref_code, member.muni_code)
    member.user_id, member.status, member.org_type, member.muni_code = anon, "anonymous", kind, None
    member.name = member.department = member.title = member.rejected_reason = None
    member.approved_by = member.placed_pref_code = member.public_servant_confirmed_at = None
    member.registered_at, member.interests, member.is_lead = None, [], False
    member.answers, member.consent_version, member.consent_at = None, None, None
    member.left_at = month if member.left_at is not None else None
    member.joined_at = member.created_at = member.updated_at = member.approved_at = month


async def known_dms(db: Database, *, team_id: str, user_id: str) -> set[str]:
    """The member's DM channel ids as our sends recorded them (empty: ask Slack)."""
    async with db.read() as session:
        return await dm_channels(session, team_id=team_id, user_id=user_id)


async def dm_channels(session: AsyncSession, *, team_id: str, user_id: str) -> set[str]:
    """The member's DM channel ids as our sends recorded them."""
    found = await session.scalars(
        select(m.OutboxMessage.channel).where(
            m.OutboxMessage.team_id == team_id, m.OutboxMessage.kind == "dm", m.OutboxMessage.target == user_id
        )
    )
    delivered = await session.scalars(
        select(m.AnnouncementDelivery.channel).where(
            m.AnnouncementDelivery.team_id == team_id,
            m.AnnouncementDelivery.kind == "dm",
            m.AnnouncementDelivery.target == user_id,
        )
    )
    return {c for c in [*found, *delivered] if c}


def whole_id(value: str) -> re.Pattern[str]:
    """`value` as a whole Slack id: U0AB1 must not match inside U0AB12 (someone else)."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])")


def _swap_segments(key: str, swap: dict[str, str]) -> str:
    return ":".join(swap.get(part, part) for part in key.split(":"))


async def _erase_outbox(
    session: AsyncSession,
    *,
    team_id: str,
    person: Person,
    member_id: int | None,
    request_ids: list[int],
    dms: set[str],
    alias: str,
    pseudonym: Pseudonym,
    neutral: Neutral,
    now: datetime,
) -> int:
    """Messages to the member are blanked; our posts that showed them are rewritten and, once sent, queued for
    a chat.update (a keyed outbox row: a failure retries). Slack ids and DM ids in keys become keyed hashes."""
    user_id = person.user_id
    ids = {user_id, *dms}
    swap = {i: pseudonym(i) for i in ids}
    o = m.OutboxMessage
    about = [
        o.target.in_(ids),
        o.channel.in_(dms) if dms else false(),
        *(o.key.contains(i, autoescape=True) for i in ids),
        cast(o.payload, Text).contains(user_id, autoescape=True),
        *(o.key == f"approval-card:{rid}" for rid in request_ids),
        *(o.key == f"registered-dm:{rid}" for rid in request_ids),
    ]
    if member_id is not None:
        about += [o.key.startswith(f"{p}:{member_id}:", autoescape=True) for p in MEMBER_KEYS]
    exact = {f"approval-card:{rid}" for rid in request_ids} | {f"registered-dm:{rid}" for rid in request_ids}
    mine = tuple(f"{p}:{member_id}:" for p in MEMBER_KEYS) if member_id is not None else ()
    shown = whole_id(user_id)

    def concerns(row: m.OutboxMessage) -> bool:
        # The query casts a wide net (LIKE); this keeps only what is really about this person.
        return (
            row.target in ids
            or row.channel in dms
            or row.key in exact
            or (bool(mine) and row.key.startswith(mine))
            or any(part in ids for part in row.key.split(":"))
            or bool(shown.search(json.dumps(row.payload or {})))
        )

    found = await session.scalars(select(o).where(o.team_id == team_id, or_(*about)).order_by(o.id))
    rows = [row for row in found if concerns(row)]
    for row in rows:
        to_them = (row.kind == "dm" and row.target == user_id) or row.target in dms or row.channel in dms
        if row.kind not in ("dm", "post"):  # a step (an invite naming them), not a message: nothing to show
            to_them = True
        key = _swap_segments(row.key, swap)
        if key != row.key and await session.scalar(select(o.id).where(o.team_id == team_id, o.key == key)):
            # The same person erased before under the same key: that tombstone already stands for this one.
            await session.delete(row)
            continue
        row.key = key
        if to_them:
            target = alias if row.kind == "dm" else swap.get(row.target, row.target if row.kind != "post" else ERASED)
            row.payload, row.target, row.channel, worth = {}, target, None, False
        else:
            row.payload, worth = neutral(row.key, row.payload or {}, person)
            if row.status == "sent" and row.channel and row.ts:
                await claimed(
                    session,
                    o,
                    team_id=team_id,
                    key=f"forgotten:{row.id}",
                    kind="update",
                    target=row.channel,
                    payload={"ts": row.ts, **{k: v for k, v in row.payload.items() if k in ("text", "blocks")}},
                    status="pending",
                    attempts=0,
                    next_attempt_at=DUE_AT_ONCE,
                    created_at=now,
                )
        if row.status in ("pending", "sending") and not worth:
            row.status, row.last_error, row.locked_until = "failed", ERASED, None
    return len(rows)


async def _erase_mentions(session: AsyncSession, *, team_id: str, user_id: str, alias: str, dms: set[str]) -> None:
    """The member as the one who did something (an organiser deciding, announcing, writing an FAQ entry)."""
    for column in (
        m.Member.approved_by,
        m.ApprovalRequest.decided_by,
        m.Announcement.created_by,
        m.Announcement.cancelled_by,
        m.Faq.author,
        m.FaqRevision.edited_by,
        m.FaqChannel.updated_by,
        m.AuditEntry.actor,
        m.AuditEntry.subject,
    ):
        table = column.class_
        await session.execute(
            update(table).where(table.team_id == team_id, column == user_id).values({column.key: alias})
        )
    if dms:
        await session.execute(
            update(m.Announcement)
            .where(m.Announcement.team_id == team_id, m.Announcement.origin_channel.in_(dms))
            .values(origin_channel=None)
        )
    for revision in await session.scalars(
        select(m.FaqRevision).where(
            m.FaqRevision.team_id == team_id, cast(m.FaqRevision.snapshot, Text).contains(user_id, autoescape=True)
        )
    ):
        if (revision.snapshot or {}).get("author") == user_id:
            revision.snapshot = {**revision.snapshot, "author": alias}
    for section in await session.scalars(select(m.Section).where(m.Section.team_id == team_id)):
        if user_id in (section.leads or []):
            section.leads = [u for u in section.leads if u != user_id]


async def forget(
    db: Database,
    *,
    team_id: str,
    user_id: str,
    tz: tzinfo,
    pseudonym: Pseudonym,
    neutral: Neutral,
    dms: set[str] = frozenset(),
    actor: str | None = None,
) -> Forgotten:
    """Erase one person's data in one transaction (programme data: storage.programs.forget_member first).

    `dms`: DM channel ids known from elsewhere (Slack), added to those our sends recorded. Idempotent: a
    second call finds nothing and changes nothing. `actor` None means the person asked.
    """
    now = utcnow()
    async with db.write() as session:
        member = await session.scalar(select(m.Member).where(m.Member.team_id == team_id, m.Member.user_id == user_id))
        anon = anon_id(member.id) if member is not None else None
        alias = anon or pseudonym(user_id)
        dms = set(dms) | await dm_channels(session, team_id=team_id, user_id=user_id)
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
        votes = (
            await session.execute(delete(m.FaqVote).where(m.FaqVote.team_id == team_id, m.FaqVote.user_id == user_id))
        ).rowcount
        # Questions they forwarded: who asked goes (the admin cards that name them are rewritten below).
        await session.execute(delete(m.FaqAsker).where(m.FaqAsker.team_id == team_id, m.FaqAsker.user_id == user_id))
        person = Person(user_id)
        if member is not None:
            person = Person(user_id, member.name, member.department, member.title)
        messages = await _erase_outbox(
            session,
            team_id=team_id,
            person=person,
            member_id=member.id if member is not None else None,
            request_ids=request_ids,
            dms=dms,
            alias=alias,
            pseudonym=pseudonym,
            neutral=neutral,
            now=now,
        )
        # Announcement DMs addressed to them: pending ones are cancelled, and no row keeps their id or DM.
        theirs = (
            m.AnnouncementDelivery.team_id == team_id,
            m.AnnouncementDelivery.kind == "dm",
            m.AnnouncementDelivery.target == user_id,
        )
        await session.execute(
            update(m.AnnouncementDelivery)
            .where(*theirs, m.AnnouncementDelivery.status.in_(("pending", "sending")))
            .values(status="cancelled", last_error=ERASED, locked_until=None)
        )
        await session.execute(update(m.AnnouncementDelivery).where(*theirs).values(target=alias, channel=None))
        # A pending request is withdrawn: a late click on its card must not approve an anonymous row.
        await session.execute(
            update(m.ApprovalRequest)
            .where(m.ApprovalRequest.id.in_(request_ids), m.ApprovalRequest.status == "pending")
            .values(status="withdrawn", decided_at=now)
        )
        await session.execute(
            update(m.ApprovalRequest).where(m.ApprovalRequest.id.in_(request_ids)).values(user_id=alias, reason=None)
        )
        await _erase_mentions(session, team_id=team_id, user_id=user_id, alias=alias, dms=dms)
        # Their seats, waitlist places and survey answers go; events they host or created no longer name them.
        await events.forget(session, team_id=team_id, user_id=user_id, alias=alias)
        profile = "none"
        if member is not None and member.approved_at is not None:
            profile = "anonymised"
            _anonymise(member, alias, tz)
        elif member is not None:
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
