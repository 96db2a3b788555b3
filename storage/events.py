"""Events members sign up for: the catalogue, seats and the waitlist, survey answers. Each call opens its session.

The last seat goes to exactly one member however many click at once: a sign-up or a cancellation locks its
event row first (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's writers are serialised by BEGIN IMMEDIATE), then
counts and writes under that lock. One row per (event, member) keeps a member signed up at most once; the
waitlist's order is `seq`, given under the same lock. Messages that must follow a change (the confirmation, the
promotion) are queued in the outbox in the same transaction, so a crash never loses or doubles them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.db import Database
from storage.models import Event, EventSignup, EventSurvey
from storage.programs import fold
from storage.recurrence import Recurrence

KINDS = ("setsumeikai", "benkyokai", "koryukai", "seminar", "talk", "lt", "tour", "other")
Outcome = Literal["created", "updated", "unchanged"]
SEAT, WAIT, CANCELLED = "seat", "wait", "cancelled"
Payload = Callable[[Event, str], dict[str, Any]]
WaitPayload = Callable[[Event, str, int], dict[str, Any]]  # (event, member, place on the waitlist)


@dataclass(frozen=True, kw_only=True)
class EventSpec:
    """A validated event occurrence, as an import line or the organisers' modal describes it."""

    key: str
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None
    deadline: datetime | None = None
    hosts: tuple[str, ...] = ()
    audience: str = "all"
    join_url: str | None = None
    venue: str | None = None
    description: str = ""
    fee: str | None = None
    archive_url: str | None = None
    series_key: str | None = None
    recurrence: Recurrence | None = None
    publish: bool = False  # announce it in its audience's channel once saved (an import field; never stored)


@dataclass(frozen=True)
class Counts:
    seats: int
    waiting: int

    def left(self, capacity: int | None) -> int | None:
        return None if capacity is None else max(0, capacity - self.seats)


@dataclass(frozen=True)
class SignupResult:
    outcome: str  # seat | wait | already_seat | already_wait | closed | gone
    event: Event | None = None
    counts: Counts = field(default_factory=lambda: Counts(0, 0))
    place: int | None = None  # on the waitlist: 1 for the first in line


@dataclass(frozen=True)
class CancelResult:
    outcome: str  # cancelled | not_signed | gone
    event: Event | None = None
    promoted: str | None = None


def _columns(spec: EventSpec) -> dict[str, Any]:
    return {
        "title": spec.title,
        "kind": spec.kind,
        "starts_at": spec.starts_at,
        "ends_at": spec.ends_at,
        "capacity": spec.capacity,
        "deadline": spec.deadline,
        "hosts": list(spec.hosts),
        "audience": spec.audience,
        "join_url": spec.join_url,
        "venue": spec.venue,
        "description": spec.description,
        "fee": spec.fee,
        "archive_url": spec.archive_url,
        "series_key": spec.series_key,
        "recurrence": spec.recurrence.to_dict() if spec.recurrence else None,
    }


def spec_of(event: Event) -> EventSpec:
    """A stored event as a spec again (what an edit starts from)."""
    return EventSpec(
        key=event.key,
        title=event.title,
        kind=event.kind,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        capacity=event.capacity,
        deadline=event.deadline,
        hosts=tuple(event.hosts or ()),
        audience=event.audience,
        join_url=event.join_url,
        venue=event.venue,
        description=event.description or "",
        fee=event.fee,
        archive_url=event.archive_url,
        series_key=event.series_key,
        recurrence=Recurrence.from_dict(event.recurrence) if event.recurrence else None,
    )


def is_open(event: Event, now: datetime) -> bool:
    """Sign-up is open until the deadline, or until the start when there is none."""
    return now < (event.deadline or event.starts_at)


def audiences_of(*, pref_code: str | None, sections: Iterable[str]) -> set[str]:
    """The audiences a member belongs to: everyone, their 県人会, each of their 課 (folded names)."""
    found = {"all"}
    if pref_code:
        found.add(f"pref:{pref_code}")
    found.update(f"ka:{fold(name)}" for name in sections)
    return found


def audience_key(audience: str) -> str:
    """`ka:ライティング課` and `ka:らいてぃんぐ課` are one audience."""
    return f"ka:{fold(audience[3:])}" if audience.startswith("ka:") else audience


# --- the catalogue -------------------------------------------------------------------------------


async def upsert(db: Database, *, team_id: str, spec: EventSpec, by: str | None = None) -> tuple[Event, Outcome]:
    """Create or update by key: importing the same file twice changes nothing. A change bumps `version`."""
    values = _columns(spec)
    async with db.write() as session:
        row = await session.scalar(select(Event).where(Event.team_id == team_id, Event.key == spec.key))
        if row is None:
            row = Event(team_id=team_id, key=spec.key, created_by=by, version=1, shown_version=0, **values)
            session.add(row)
            outcome: Outcome = "created"
        elif all(getattr(row, col) == value for col, value in values.items()):
            outcome = "unchanged"
        else:
            for col, value in values.items():
                setattr(row, col, value)
            row.version = (row.version or 0) + 1
            outcome = "updated"
        await session.flush()
        return row, outcome


async def get(db: Database, *, team_id: str, event_id: int) -> Event | None:
    async with db.read() as session:
        return await session.scalar(select(Event).where(Event.team_id == team_id, Event.id == event_id))


async def by_key(db: Database, *, team_id: str, key: str) -> Event | None:
    async with db.read() as session:
        return await session.scalar(select(Event).where(Event.team_id == team_id, Event.key == key))


async def every(db: Database, *, team_id: str) -> list[Event]:
    async with db.read() as session:
        return list(await session.scalars(select(Event).where(Event.team_id == team_id).order_by(Event.starts_at)))


async def between(db: Database, *, team_id: str, start: datetime, end: datetime, on: str = "starts_at") -> list[Event]:
    """Events whose `on` moment (starts_at or ends_at) lies in [start, end)."""
    column = getattr(Event, on)
    async with db.read() as session:
        rows = await session.scalars(
            select(Event).where(Event.team_id == team_id, column >= start, column < end).order_by(column, Event.id)
        )
        return list(rows)


async def upcoming(
    db: Database, *, team_id: str, now: datetime, audiences: set[str] | None = None, kind: str | None = None
) -> list[Event]:
    """Events not ended yet, by start; only those for `audiences` when given, only `kind` when given."""
    query = select(Event).where(Event.team_id == team_id, Event.ends_at > now)
    if kind:
        query = query.where(Event.kind == kind)
    async with db.read() as session:
        rows = list(await session.scalars(query.order_by(Event.starts_at, Event.id)))
    if audiences is None:
        return rows
    return [row for row in rows if audience_key(row.audience) in audiences]


async def set_archive(db: Database, *, event_id: int, archive_id: int) -> None:
    async with db.write() as session:
        await session.execute(update(Event).where(Event.id == event_id).values(archive_id=archive_id))


async def mark_shown(db: Database, *, event_id: int, version: int) -> None:
    async with db.write() as session:
        await session.execute(
            update(Event).where(Event.id == event_id, Event.shown_version < version).values(shown_version=version)
        )


async def stale_posts(db: Database, *, team_id: str, now: datetime) -> list[int]:
    """Upcoming events whose post shows an older version than they have (an update that could not be made)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Event.id).where(Event.team_id == team_id, Event.ends_at > now, Event.shown_version < Event.version)
        )
        return list(rows)


# --- seats and the waitlist ----------------------------------------------------------------------


async def _locked(session: AsyncSession, *, team_id: str, event_id: int) -> Event | None:
    return await session.scalar(select(Event).where(Event.team_id == team_id, Event.id == event_id).with_for_update())


async def _counts(session: AsyncSession, event_id: int) -> Counts:
    rows = await session.execute(
        select(EventSignup.status, func.count())
        .where(EventSignup.event_id == event_id, EventSignup.status.in_((SEAT, WAIT)))
        .group_by(EventSignup.status)
    )
    found = dict(rows.all())
    return Counts(found.get(SEAT, 0), found.get(WAIT, 0))


async def _place(session: AsyncSession, mine: EventSignup) -> int:
    """A waiting sign-up's place in line, in the order of `people` (seq, then id)."""
    ahead = await session.scalar(
        select(func.count())
        .select_from(EventSignup)
        .where(
            EventSignup.event_id == mine.event_id,
            EventSignup.status == WAIT,
            or_(EventSignup.seq < mine.seq, and_(EventSignup.seq == mine.seq, EventSignup.id < mine.id)),
        )
    )
    return (ahead or 0) + 1


async def counts(db: Database, *, event_id: int) -> Counts:
    async with db.read() as session:
        return await _counts(session, event_id)


async def _enqueue(session: AsyncSession, event: Event, user_id: str, key: str, payload: dict, now: datetime) -> None:
    await outbox.enqueue(session, team_id=event.team_id, key=key, kind="dm", target=user_id, payload=payload, now=now)


async def sign_up(
    db: Database,
    *,
    team_id: str,
    event_id: int,
    user_id: str,
    now: datetime,
    confirm: Payload | None = None,
    waitlisted: WaitPayload | None = None,
    audiences: set[str] | None = None,
) -> SignupResult:
    """A click on 参加する: a seat while one is left, else a place at the end of the waitlist.

    `audiences` (from `audiences_of`) are the member's; an event for another audience is refused. None: anyone
    (organisers).

    `confirm(event, user)` / `waitlisted(event, user)` build the DM queued with it (the join link only in the first).
    """
    async with db.write() as session:
        event = await _locked(session, team_id=team_id, event_id=event_id)
        if event is None:
            return SignupResult("gone")
        if audiences is not None and audience_key(event.audience) not in audiences:
            return SignupResult("not_audience", event)
        mine = await session.scalar(
            select(EventSignup).where(EventSignup.event_id == event.id, EventSignup.user_id == user_id)
        )
        if mine is not None and mine.status in (SEAT, WAIT):
            place = await _place(session, mine) if mine.status == WAIT else None
            return SignupResult(f"already_{mine.status}", event, await _counts(session, event.id), place)
        if not is_open(event, now):
            return SignupResult("closed", event, await _counts(session, event.id))
        counted = await _counts(session, event.id)
        status = SEAT if event.capacity is None or counted.seats < event.capacity else WAIT
        seq = (await session.scalar(select(func.max(EventSignup.seq)).where(EventSignup.event_id == event.id)) or 0) + 1
        if mine is None:
            mine = EventSignup(team_id=team_id, event_id=event.id, user_id=user_id, status=status, seq=seq)
            session.add(mine)
        else:
            mine.status, mine.seq, mine.cancelled_at, mine.promoted_at = status, seq, None, None
        mine.signed_at = now
        event.version = (event.version or 0) + 1
        await session.flush()
        key = f"events:{event.id}:{status}:{user_id}:{seq}"
        if status == SEAT and confirm is not None:
            await _enqueue(session, event, user_id, key, confirm(event, user_id), now)
        elif status == WAIT and waitlisted is not None:
            await _enqueue(session, event, user_id, key, waitlisted(event, user_id, counted.waiting + 1), now)
        place = counted.waiting + 1 if status == WAIT else None
        return SignupResult(status, event, await _counts(session, event.id), place)


async def cancel(
    db: Database, *, team_id: str, event_id: int, user_id: str, now: datetime, promoted: Payload | None = None
) -> CancelResult:
    """A click on キャンセル: the seat (or waitlist place) is given up; before the start, a freed seat goes to
    the first on the waitlist, whose DM (`promoted(event, user)`) is queued with the change."""
    async with db.write() as session:
        event = await _locked(session, team_id=team_id, event_id=event_id)
        if event is None:
            return CancelResult("gone")
        mine = await session.scalar(
            select(EventSignup).where(
                EventSignup.event_id == event.id, EventSignup.user_id == user_id, EventSignup.status.in_((SEAT, WAIT))
            )
        )
        if mine is None:
            return CancelResult("not_signed", event)
        was = mine.status
        mine.status, mine.cancelled_at = CANCELLED, now
        event.version = (event.version or 0) + 1
        await session.flush()
        lucky = None
        if was == SEAT and now < event.starts_at:
            lucky = await _promote_one(session, event, now, promoted)
        return CancelResult("cancelled", event, lucky)


async def _promote_one(session: AsyncSession, event: Event, now: datetime, promoted: Payload | None) -> str | None:
    counted = await _counts(session, event.id)
    if event.capacity is not None and counted.seats >= event.capacity:
        return None
    first = await session.scalar(
        select(EventSignup)
        .where(EventSignup.event_id == event.id, EventSignup.status == WAIT)
        .order_by(EventSignup.seq, EventSignup.id)
        .limit(1)
    )
    if first is None:
        return None
    first.status, first.promoted_at = SEAT, now
    await session.flush()
    if promoted is not None:
        key = f"events:{event.id}:promoted:{first.user_id}:{first.seq}"
        await _enqueue(session, event, first.user_id, key, promoted(event, first.user_id), now)
    return first.user_id


async def promote_waiting(
    db: Database, *, team_id: str, event_id: int, now: datetime, promoted: Payload | None = None
) -> list[str]:
    """After the capacity grew: seats to the waitlist in order while there are seats."""
    out: list[str] = []
    async with db.write() as session:
        event = await _locked(session, team_id=team_id, event_id=event_id)
        if event is None or now >= event.starts_at:
            return out
        while (lucky := await _promote_one(session, event, now, promoted)) is not None:
            out.append(lucky)
        if out:
            event.version = (event.version or 0) + 1
    return out


async def people(db: Database, *, event_id: int, status: str) -> list[str]:
    """Members with a seat (or on the waitlist, in order) at one event."""
    async with db.read() as session:
        rows = await session.scalars(
            select(EventSignup.user_id)
            .where(EventSignup.event_id == event_id, EventSignup.status == status)
            .order_by(EventSignup.seq, EventSignup.id)
        )
        return list(rows)


async def status_of(db: Database, *, event_id: int, user_id: str) -> str | None:
    async with db.read() as session:
        return await session.scalar(
            select(EventSignup.status).where(EventSignup.event_id == event_id, EventSignup.user_id == user_id)
        )


async def place_in_line(db: Database, *, event_id: int, user_id: str) -> int | None:
    """1 for the first on the waitlist; None when not waiting."""
    waiting = await people(db, event_id=event_id, status=WAIT)
    return waiting.index(user_id) + 1 if user_id in waiting else None


async def of_member(
    db: Database, *, team_id: str, user_id: str, after: datetime | None = None
) -> list[tuple[Event, str]]:
    """(event, seat|wait) of a member's live sign-ups, by start; only events not ended by `after` when given."""
    query = (
        select(Event, EventSignup.status)
        .join(EventSignup, EventSignup.event_id == Event.id)
        .where(EventSignup.team_id == team_id, EventSignup.user_id == user_id, EventSignup.status.in_((SEAT, WAIT)))
    )
    if after is not None:
        query = query.where(Event.ends_at > after)
    async with db.read() as session:
        return [(event, status) for event, status in (await session.execute(query.order_by(Event.starts_at))).all()]


# --- survey --------------------------------------------------------------------------------------


async def answer_survey(
    db: Database,
    *,
    team_id: str,
    event_id: int,
    user_id: str,
    now: datetime,
    satisfaction: int | None = None,
    attended: bool | None = None,
    topic: str | None = None,
    share_name: bool | None = None,
) -> bool:
    """Record (or change) one member's answer; False when they had no place at that event."""
    async with db.write() as session:
        signed = await session.scalar(
            select(EventSignup.id).where(
                EventSignup.team_id == team_id, EventSignup.event_id == event_id, EventSignup.user_id == user_id
            )
        )
        if signed is None:
            return False
        row = await session.scalar(
            select(EventSurvey).where(EventSurvey.event_id == event_id, EventSurvey.user_id == user_id)
        )
        if row is None:
            row = EventSurvey(team_id=team_id, event_id=event_id, user_id=user_id, share_name=False)
            session.add(row)
        if satisfaction is not None:
            row.satisfaction, row.attended = satisfaction, True
        if attended is not None:
            row.attended = attended
            if not attended:
                row.satisfaction = None
        if topic is not None:
            row.topic = topic
        if share_name is not None:
            row.share_name = share_name
        row.answered_at = now
        return True


async def surveys(db: Database, *, event_id: int) -> list[EventSurvey]:
    async with db.read() as session:
        rows = await session.scalars(
            select(EventSurvey).where(EventSurvey.event_id == event_id).order_by(EventSurvey.id)
        )
        return list(rows)


async def topics_between(db: Database, *, team_id: str, start: datetime, end: datetime) -> list[str]:
    """Every wished topic answered in [start, end) (never who wished it: the monthly report groups them)."""
    async with db.read() as session:
        rows = await session.scalars(
            select(EventSurvey.topic).where(
                EventSurvey.team_id == team_id,
                EventSurvey.answered_at >= start,
                EventSurvey.answered_at < end,
                EventSurvey.topic.is_not(None),
            )
        )
        return [t for t in rows if t and t.strip()]


async def missed(db: Database, *, event_id: int) -> list[str]:
    """Who missed the event, so the recording goes to them (README "Events": what counts as attended).

    Everyone with a seat or a waitlist place at the end, except those whose survey says they attended."""
    async with db.read() as session:
        signed = list(
            await session.scalars(
                select(EventSignup.user_id)
                .where(EventSignup.event_id == event_id, EventSignup.status.in_((SEAT, WAIT)))
                .order_by(EventSignup.seq)
            )
        )
        came = set(
            await session.scalars(
                select(EventSurvey.user_id).where(EventSurvey.event_id == event_id, EventSurvey.attended.is_(True))
            )
        )
    return [u for u in signed if u not in came]


# --- privacy -------------------------------------------------------------------------------------


async def collect(db: Database, *, team_id: str, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """A member's sign-ups (seat, waitlist place, cancellations) and survey answers, for /mydata export."""
    async with db.read() as session:
        signups = (
            await session.execute(
                select(Event.title, Event.starts_at, EventSignup)
                .join(Event, Event.id == EventSignup.event_id)
                .where(EventSignup.team_id == team_id, EventSignup.user_id == user_id)
                .order_by(Event.starts_at)
            )
        ).all()
        answers = (
            await session.execute(
                select(Event.title, EventSurvey)
                .join(Event, Event.id == EventSurvey.event_id)
                .where(EventSurvey.team_id == team_id, EventSurvey.user_id == user_id)
                .order_by(EventSurvey.id)
            )
        ).all()
    out_signups = []
    for title, starts_at, row in signups:
        line = None
        if row.status == WAIT:
            line = await place_in_line(db, event_id=row.event_id, user_id=user_id)
        out_signups.append(
            {
                "event": title,
                "starts_at": starts_at.isoformat(),
                "status": row.status,
                "waitlist_place": line,
                "signed_at": row.signed_at.isoformat(),
                "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
            }
        )
    return {
        "signups": out_signups,
        "surveys": [
            {
                "event": title,
                "attended": row.attended,
                "satisfaction": row.satisfaction,
                "topic": row.topic,
                "share_name": row.share_name,
                "answered_at": row.answered_at.isoformat(),
            }
            for title, row in answers
        ],
    }


async def forget(session: AsyncSession, *, team_id: str, user_id: str, alias: str) -> int:
    """Inside the privacy erase's transaction: their places and answers go; hosts and author lists lose them."""
    removed = (
        await session.execute(delete(EventSignup).where(EventSignup.team_id == team_id, EventSignup.user_id == user_id))
    ).rowcount or 0
    removed += (
        await session.execute(delete(EventSurvey).where(EventSurvey.team_id == team_id, EventSurvey.user_id == user_id))
    ).rowcount or 0
    for row in await session.scalars(select(Event).where(Event.team_id == team_id)):
        if user_id in (row.hosts or []):
            row.hosts = [h for h in row.hosts if h != user_id]
        if row.created_by == user_id:
            row.created_by = alias
    return removed
