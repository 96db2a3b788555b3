"""Introductions (繋がりづくり): when rounds are, one round (who, the matching, the group DMs), the check-ins.

Every send goes through the outbox under a once-only key: `intro:{round}:{group}` for a group DM (its target
is the members' ids joined by ",", which conversations.open takes as is) and `intro-checkin:{seat}` for the
check-in a week later. A round is recorded with its slot (unique per team), so a second run of the same slot,
a replica or a restart mid-round adds nothing and sends nothing twice.

YAKUBA_INTRO_SCHEDULE uses the programmes' recurrence words (storage/recurrence.py) and a local time:
"every other monday 10:00" (the default), "every thu 15:00", "weekly fri 9:30", the Japanese words too,
"monthly_nth tue nth=2 10:00", "biweekly mon anchor=2026-04-06 10:00". "every other" counts fortnights from
the first such weekday on or after ANCHOR unless an anchor is given. A round falling on a Japanese public
holiday moves to the next business day (a Monday round on Coming of Age Day is made on Tuesday).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from bot.blocks.intro import Person, checkin_message, intro_message
from bot.blocks.registration import government_label
from bot.config import Settings
from bot.services.intro_matching import Candidate, Grouping, match, pair_key
from bot.slack.context import Deps
from storage import intro as store
from storage.data import Prefecture, prefecture
from storage.directory import government_of
from storage.members import Profile
from storage.recurrence import Recurrence, RecurrenceError, is_holiday, parse_time, parse_weekdays
from storage.recurrence_values import norm

log = logging.getLogger(__name__)

TRIO_MEMORY = 26  # rounds looked back to find who was last in a trio (a year of fortnightly rounds)
CHECKIN_AFTER = timedelta(days=7)
CHECKIN_WINDOW = timedelta(days=7)  # a check-in missed for a few days (a stopped server) is still sent


ANCHOR = date(2026, 1, 5)  # a Monday: "every other" weeks are counted from here
SHIFT_LOOKBACK = timedelta(days=14)  # how far back an occurrence may lie whose round moved into the window
_warned: set[str] = set()


@lru_cache(maxsize=8)
def parse_schedule(text: str) -> tuple[Recurrence, time]:
    """(which local dates, at what local time); RecurrenceError (a catalogue key) when it cannot be read."""
    words = norm(text).split()
    if len(words) < 2:
        raise RecurrenceError("programs.error.bad_recurrence", value=text)
    *head, at = words
    options = {k: v for k, _, v in (w.partition("=") for w in head if "=" in w)}
    head = [w for w in head if "=" not in w]
    if head[:2] == ["every", "other"]:
        kind, days = "biweekly", head[2:]
    elif head[:1] == ["every"]:
        kind, days = "weekly", head[1:]
    else:
        kind, days = head[0], head[1:]
    data: dict[str, object] = {"kind": kind, **options}
    if days:
        data["weekdays" if kind != "monthly_nth" else "weekday"] = days
    # Only a fortnightly kind reads the anchor (Recurrence.from_dict): the other kinds ignore it.
    if "anchor" not in options and days:
        weekdays = parse_weekdays(days)
        data["anchor"] = next(
            ANCHOR + timedelta(days=i) for i in range(7) if (ANCHOR.weekday() + i) % 7 in weekdays
        ).isoformat()
    recurrence = Recurrence.from_dict(data)
    return recurrence, parse_time(at)


def next_business_day(day: date) -> date:
    while day.weekday() >= 5 or is_holiday(day):
        day += timedelta(days=1)
    return day


def schedule_slots(settings: Settings, start: datetime, end: datetime) -> list[datetime]:
    """Round moments in (start, end], aware, in start's zone; none when the schedule cannot be read."""
    text, tz = settings.yakuba_intro_schedule, settings.tz
    try:
        recurrence, at = parse_schedule(text)
    except RecurrenceError as exc:
        if text not in _warned:  # the ticker asks every minute: say it once per process
            _warned.add(text)
            log.warning("YAKUBA_INTRO_SCHEDULE cannot be read (%s): no introduction rounds", exc.key)
        return []
    found: set[datetime] = set()
    day, last = (start - SHIFT_LOOKBACK).astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        if recurrence.occurs_on(day):
            moment = datetime.combine(next_business_day(day), at, tzinfo=tz).astimezone(UTC)
            if start < moment <= end:
                found.add(moment.astimezone(start.tzinfo))
        day += timedelta(days=1)
    return sorted(found)


async def round_slots(deps: Deps, start: datetime, end: datetime) -> list[datetime]:
    return schedule_slots(deps.settings, start, end)


def next_round(settings: Settings, now: datetime) -> datetime | None:
    found = schedule_slots(settings, now, now + timedelta(days=62))
    return found[0] if found else None


@dataclass(frozen=True)
class RoundResult:
    eligible: int
    grouping: Grouping | None  # None: this slot's round had been made before

    def detail(self) -> str:
        if self.grouping is None:
            return "already made"
        g = self.grouping
        return f"eligible={self.eligible} groups={len(g.groups)} left_out={len(g.left_out)} repeats={g.repeats}"


def seed_of(team_id: str, slot: datetime) -> int:
    """The round's RNG seed: the same slot always gives the same groups (a rerun after a crash agrees)."""
    return zlib.crc32(f"{team_id}:{slot.astimezone(UTC).isoformat()}".encode())  # whichever zone asked


def history_costs(rounds: list[list[tuple[str, ...]]]) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """From past groups (newest round first): when each pair last met, and when each member was last in a trio."""
    met: dict[tuple[str, str], int] = {}
    trio: dict[str, int] = {}
    for age, groups in enumerate(rounds, start=1):
        for group in groups:
            for x, a in enumerate(group):
                for b in group[x + 1 :]:
                    met.setdefault(pair_key(a, b), age)
            if len(group) == 3:
                for user in group:
                    trio.setdefault(user, age)
    return met, trio


@lru_cache(maxsize=128)
def _prefecture(code: str | None) -> Prefecture | None:
    return prefecture(code)  # the lookup normalises its argument: 10,000 members ask for 47 answers


def candidate_of(row: store.Eligible, trio_age: int | None) -> Candidate:
    m = row.member
    government, _ = government_of(m.org_type, m.pref_code, m.muni_code)
    pref = _prefecture(m.pref_code)
    return Candidate(
        user_id=m.user_id,
        # An unknown government is nobody else's: such a member may meet anyone.
        government=government or f"member:{m.user_id}",
        pref_code=m.pref_code,
        region=pref.region if pref else None,
        sections=row.sections,
        preference=row.preference,
        trio_age=trio_age,
    )


def person_of(deps: Deps, row: store.Eligible) -> Person:
    """Only what the directory already shows every member: name, government, department, 県人会, 課."""
    m = row.member
    pref = _prefecture(m.pref_code)
    return Person(
        user_id=m.user_id,
        name=m.name or "",
        government=government_label(deps.texts, Profile.of(m)),
        department=m.department or "",
        prefecture=pref.name if pref else "",
        region=pref.region if pref else "",
        sections=row.sections,
    )


async def run_round(deps: Deps, slot: datetime) -> RoundResult:
    team_id, no_repeat = deps.team_id, deps.settings.yakuba_intro_no_repeat
    rows = await store.eligible(deps.db, team_id=team_id)
    past = await store.history(deps.db, team_id=team_id, before=slot, rounds=max(no_repeat, TRIO_MEMORY))
    met, trio = history_costs(past)
    grouping = match(
        [candidate_of(r, trio.get(r.member.user_id)) for r in rows],
        met=met,
        no_repeat=no_repeat,
        seed=seed_of(team_id, slot),
    )
    by_user = {r.member.user_id: r for r in rows}
    # A community open to anyone is no public servants' one: its members meet as members of it, by name.
    open_to_anyone = deps.community.eligibility.who == "anyone"
    community = deps.community_name if open_to_anyone else None
    async with deps.db.write() as session:
        saved = await store.save_round(session, team_id=team_id, slot=slot, eligible=len(rows), groups=grouping.groups)
        if saved is None:
            return RoundResult(len(rows), None)
        await store.queue_messages(
            session,
            team_id=team_id,
            now=deps.clock(),
            messages=[
                (
                    f"{store.INTRO_KEY}:{saved.id}:{no}",
                    ",".join(group),
                    intro_message(deps.texts, [person_of(deps, by_user[u]) for u in group], community=community),
                )
                for no, group in enumerate(grouping.groups, start=1)
            ],
        )
    deps.outbox.kick()
    return RoundResult(len(rows), grouping)


async def send_checkins(deps: Deps, now: datetime) -> int:
    """Ask each member of the rounds that turned a week old (within the window) how it went; once per seat."""
    seats = await store.seats_between(
        deps.db, team_id=deps.team_id, start=now - CHECKIN_AFTER - CHECKIN_WINDOW, end=now - CHECKIN_AFTER
    )
    async with deps.db.write() as session:
        queued = await store.queue_messages(
            session,
            team_id=deps.team_id,
            now=deps.clock(),
            messages=[
                (f"{store.CHECKIN_KEY}:{seat.id}", seat.user_id, checkin_message(deps.texts, seat.id))
                for _, seat in seats
            ],
        )
    if queued:
        deps.outbox.kick()
    return queued
