"""庁内放送 programmes and who subscribed to them. Every function opens its own session.

A programme is found by its name (a short slug such as "photo-labo") or its title, insensitive to
case, full/half width and katakana/hiragana; a unique partial match also finds it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Literal

from sqlalchemy import delete, select

from storage.db import Database
from storage.models import Program, ProgramSubscription
from storage.recurrence import (
    Occurrence,
    Recurrence,
    day_bounds,
    format_time,
    occurrences,
    parse_time,
)
from storage.sql import claimed

Outcome = Literal["created", "updated", "unchanged"]
NAME_MAX = 64
_NAME_PUNCT = str.maketrans("", "", " \t-_・.·/　")


class ProgramNotFound(LookupError):
    pass


@dataclass(frozen=True, kw_only=True)
class ProgramSpec:
    """A validated programme, as the import file or the organiser's modal describes it."""

    name: str
    title: str
    description: str = ""
    personalities: tuple[str, ...] = ()
    recurrence: Recurrence
    start_time: time
    duration_min: int
    channel: str | None = None
    stream_url: str | None = None
    archive_url: str | None = None
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class StoredProgram(ProgramSpec):
    """A programme as stored; satisfies storage.recurrence.Scheduled."""

    id: int

    def target_channel(self, default: str | None) -> str | None:
        """Its own channel, else the broadcast channel (YAKUBA_BROADCAST_CHANNEL) passed in."""
        return self.channel or default


@dataclass(frozen=True)
class UpsertResult:
    program: StoredProgram
    outcome: Outcome


@dataclass(frozen=True)
class ForgetResult:
    subscriptions: int
    personalities: int


def fold(text: str) -> str:
    """Comparison key: NFKC, case-folded, katakana as hiragana, no spaces or separators."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_NAME_PUNCT)
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in folded)


def name_key(name: str) -> str:
    return fold(name)[:NAME_MAX]


def _stored(row: Program) -> StoredProgram:
    return StoredProgram(
        id=row.id,
        name=row.name,
        title=row.title,
        description=row.description or "",
        personalities=tuple(row.personalities or ()),
        recurrence=Recurrence.from_dict(row.recurrence),
        start_time=parse_time(row.start_time),
        duration_min=row.duration_min,
        channel=row.channel,
        stream_url=row.stream_url,
        archive_url=row.archive_url,
        active=row.active,
    )


def _columns(spec: ProgramSpec) -> dict:
    return {
        "name": spec.name.strip()[:NAME_MAX],
        "title": spec.title,
        "description": spec.description,
        "personalities": list(spec.personalities),
        "recurrence": spec.recurrence.to_dict(),
        "start_time": format_time(spec.start_time),
        "duration_min": spec.duration_min,
        "channel": spec.channel,
        "stream_url": spec.stream_url,
        "archive_url": spec.archive_url,
        "active": spec.active,
    }


# --- programmes --------------------------------------------------------------------------------


async def upsert_program(*, db: Database, team_id: str, spec: ProgramSpec) -> UpsertResult:
    """Create or update the programme with this name: importing the same file twice changes nothing."""
    key = name_key(spec.name)
    if not key:
        raise ValueError("a programme needs a name")
    values = _columns(spec)
    async with db.write() as session:
        row = await session.scalar(select(Program).where(Program.team_id == team_id, Program.name_key == key))
        if row is None:
            row = Program(team_id=team_id, name_key=key, **values)
            session.add(row)
            outcome: Outcome = "created"
        elif all(getattr(row, col) == value for col, value in values.items()):
            outcome = "unchanged"
        else:
            for col, value in values.items():
                setattr(row, col, value)
            outcome = "updated"
        await session.flush()
        return UpsertResult(_stored(row), outcome)


async def get_program_by_id(*, db: Database, team_id: str, program_id: int) -> StoredProgram | None:
    async with db.read() as session:
        row = await session.scalar(select(Program).where(Program.team_id == team_id, Program.id == program_id))
        return _stored(row) if row else None


async def list_programs(*, db: Database, team_id: str, active_only: bool = True) -> list[StoredProgram]:
    """Programmes by title; paused ones too when `active_only` is False."""
    query = select(Program).where(Program.team_id == team_id)
    if active_only:
        query = query.where(Program.active.is_(True))
    async with db.read() as session:
        rows = (await session.scalars(query.order_by(Program.title, Program.id))).all()
    return [_stored(row) for row in rows]


async def find_programs(*, db: Database, team_id: str, query: str, active_only: bool = False) -> list[StoredProgram]:
    """Exact name/title matches if any, else every programme whose name or title contains `query`."""
    wanted = fold(query)
    if not wanted:
        return []
    programs = await list_programs(db=db, team_id=team_id, active_only=active_only)
    exact = [p for p in programs if wanted in (name_key(p.name), fold(p.title))]
    if exact:
        return exact
    return [p for p in programs if wanted in name_key(p.name) or wanted in fold(p.title)]


async def get_program(*, db: Database, team_id: str, name: str, active_only: bool = False) -> StoredProgram | None:
    """The one programme `name` designates (exact, or a unique partial match), else None."""
    found = await find_programs(db=db, team_id=team_id, query=name, active_only=active_only)
    return found[0] if len(found) == 1 else None


async def set_active(*, db: Database, team_id: str, program_id: int, active: bool) -> bool:
    """Pause or resume; False when there is no such programme."""
    async with db.write() as session:
        row = await session.scalar(select(Program).where(Program.team_id == team_id, Program.id == program_id))
        if row is None:
            return False
        row.active = active
        return True


async def pause_program(*, db: Database, team_id: str, program_id: int) -> bool:
    return await set_active(db=db, team_id=team_id, program_id=program_id, active=False)


async def resume_program(*, db: Database, team_id: str, program_id: int) -> bool:
    return await set_active(db=db, team_id=team_id, program_id=program_id, active=True)


async def occurrences_between(
    *, db: Database, team_id: str, start: datetime, end: datetime, tz: tzinfo | str | None = None
) -> list[Occurrence]:
    """Airings of every active programme starting in [start, end), by start time then title."""
    found: list[Occurrence] = []
    for program in await list_programs(db=db, team_id=team_id):
        found.extend(occurrences(program, start, end, tz))
    return sorted(found, key=lambda o: (o.start, o.programme.title, o.programme.id))


async def lineup(*, db: Database, team_id: str, day: date, tz: tzinfo | str | None = None) -> list[Occurrence]:
    """The line-up of a local day: every airing whose start falls on it."""
    start, end = day_bounds(day, tz)
    return await occurrences_between(db=db, team_id=team_id, start=start, end=end, tz=tz)


# --- subscriptions -----------------------------------------------------------------------------


async def subscribe(*, db: Database, team_id: str, program_id: int, user_id: str) -> bool:
    """True if newly subscribed, False if already; ProgramNotFound if no such programme."""
    async with db.write() as session:
        exists = await session.scalar(select(Program.id).where(Program.team_id == team_id, Program.id == program_id))
        if exists is None:
            raise ProgramNotFound(program_id)
        return await claimed(session, ProgramSubscription, team_id=team_id, program_id=program_id, user_id=user_id)


async def unsubscribe(*, db: Database, team_id: str, program_id: int, user_id: str) -> bool:
    """True if a subscription was removed, False if there was none."""
    async with db.write() as session:
        result = await session.execute(
            delete(ProgramSubscription).where(
                ProgramSubscription.team_id == team_id,
                ProgramSubscription.program_id == program_id,
                ProgramSubscription.user_id == user_id,
            )
        )
        return result.rowcount > 0


async def list_subscribers(*, db: Database, team_id: str, program_id: int) -> list[str]:
    async with db.read() as session:
        rows = await session.scalars(
            select(ProgramSubscription.user_id)
            .where(
                ProgramSubscription.team_id == team_id,
                ProgramSubscription.program_id == program_id,
            )
            .order_by(ProgramSubscription.created_at, ProgramSubscription.id)
        )
        return list(rows)


async def list_subscriptions(*, db: Database, team_id: str, user_id: str) -> list[StoredProgram]:
    """The programmes a member subscribed to (paused ones included), by title."""
    async with db.read() as session:
        rows = await session.scalars(
            select(Program)
            .join(ProgramSubscription, ProgramSubscription.program_id == Program.id)
            .where(ProgramSubscription.team_id == team_id, ProgramSubscription.user_id == user_id)
            .order_by(Program.title, Program.id)
        )
        return [_stored(row) for row in rows]


async def list_hosted(*, db: Database, team_id: str, user_id: str) -> list[StoredProgram]:
    """The programmes a member hosts as a personality."""
    programs = await list_programs(db=db, team_id=team_id, active_only=False)
    return [p for p in programs if user_id in p.personalities]


async def forget_member(*, db: Database, team_id: str, user_id: str) -> ForgetResult:
    """Privacy erase: drop the member's subscriptions and remove them from personality lists."""
    async with db.write() as session:
        removed = await session.execute(
            delete(ProgramSubscription).where(
                ProgramSubscription.team_id == team_id, ProgramSubscription.user_id == user_id
            )
        )
        hosted = 0
        for row in await session.scalars(select(Program).where(Program.team_id == team_id)):
            if user_id in (row.personalities or []):
                row.personalities = [u for u in row.personalities if u != user_id]
                hosted += 1
        return ForgetResult(subscriptions=removed.rowcount, personalities=hosted)
