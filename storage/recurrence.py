"""When a 庁内放送 programme is on air: a pure recurrence value type, parsing, and occurrences.

No I/O. Times are local (YAKUBA_TZ, Asia/Tokyo by default) for people and UTC for storage: an
`Occurrence` carries aware UTC `start`/`end` plus the local date its start falls on, which is the
day whose line-up it belongs to (a 23:30 programme of 60 minutes is on that day's line-up and ends
the next day).

Errors are `RecurrenceError(key, **params)`: `key` names a text in the catalogue, never prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays as _holidays

from storage.recurrence_values import (
    HOLIDAY_POLICIES,
    MAX_DURATION_MIN,
    WEEKDAY_CODES,
    RecurrenceError,
    format_time,
    norm,
    opt_date,
    parse_date,
    parse_duration,
    parse_holidays,
    parse_nth,
    parse_time,
    parse_weekdays,
    weekday_codes,
)

__all__ = [
    "DEFAULT_TZ",
    "HOLIDAY_POLICIES",
    "KINDS",
    "MAX_DURATION_MIN",
    "WEEKDAY_CODES",
    "Occurrence",
    "Recurrence",
    "RecurrenceError",
    "Scheduled",
    "day_bounds",
    "format_time",
    "holiday_name",
    "is_holiday",
    "occurrences",
    "parse_date",
    "parse_duration",
    "parse_time",
    "parse_weekdays",
]

DEFAULT_TZ = ZoneInfo("Asia/Tokyo")
KINDS = ("daily", "weekly", "biweekly", "monthly_nth", "once")
_KIND_ALIASES = {
    "毎日": "daily",
    "毎週": "weekly",
    "weekly": "weekly",
    "隔週": "biweekly",
    "every_other_week": "biweekly",
    "monthly": "monthly_nth",
    "毎月": "monthly_nth",
    "単発": "once",
    "特番": "once",
    "special": "once",
}


# --- holidays ----------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _japan(year: int) -> _holidays.HolidayBase:
    return _holidays.Japan(years=year, language="ja")


def holiday_name(d: date) -> str | None:
    """The Japanese public holiday on `d` (振替休日 included), in Japanese, or None."""
    return _japan(d.year).get(d)


def is_holiday(d: date) -> bool:
    return d in _japan(d.year)


# --- the value type ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recurrence:
    """Which local dates a programme is on. Weekdays are 0=Monday … 6=Sunday.

    - daily; weekly(weekdays); biweekly(weekdays, anchor): the anchor is a first occurrence and
      the programme is on every other week from there (weeks start on Monday), never before it;
      monthly_nth(weekday, nth): nth 1..5, or -1 for the last one of the month; once(on).
    - holidays "skip" drops Japanese public holidays; start_date/end_date bound it (inclusive).
    """

    kind: str
    weekdays: frozenset[int] = field(default_factory=frozenset)
    anchor: date | None = None
    nth: int | None = None
    on: date | None = None
    holidays: str = "keep"
    start_date: date | None = None
    end_date: date | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise RecurrenceError("programs.error.unknown_kind", value=str(self.kind))
        if self.holidays not in HOLIDAY_POLICIES:
            raise RecurrenceError("programs.error.bad_holidays", value=str(self.holidays))
        if any(not 0 <= d <= 6 for d in self.weekdays):
            raise RecurrenceError("programs.error.bad_weekday", value=str(sorted(self.weekdays)))
        if self.kind in ("weekly", "biweekly", "monthly_nth") and not self.weekdays:
            raise RecurrenceError("programs.error.missing_field", field="weekdays")
        if self.kind == "monthly_nth":
            if len(self.weekdays) != 1:
                raise RecurrenceError("programs.error.bad_weekday", value=weekday_codes(self.weekdays))
            if self.nth is None or not (1 <= self.nth <= 5 or self.nth == -1):
                raise RecurrenceError("programs.error.bad_nth", value=str(self.nth))
        if self.kind == "biweekly":
            if self.anchor is None:
                raise RecurrenceError("programs.error.missing_anchor")
            if self.anchor.weekday() not in self.weekdays:
                raise RecurrenceError(
                    "programs.error.anchor_weekday",
                    anchor=self.anchor.isoformat(),
                    weekdays=weekday_codes(self.weekdays),
                )
        if self.kind == "once" and self.on is None:
            raise RecurrenceError("programs.error.missing_field", field="date")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise RecurrenceError(
                "programs.error.date_order",
                start_date=self.start_date.isoformat(),
                end_date=self.end_date.isoformat(),
            )

    def occurs_on(self, d: date) -> bool:
        if (self.start_date and d < self.start_date) or (self.end_date and d > self.end_date):
            return False
        if not self._pattern_matches(d):
            return False
        return not (self.holidays == "skip" and is_holiday(d))

    def _pattern_matches(self, d: date) -> bool:
        if self.kind == "daily":
            return True
        if self.kind == "once":
            return d == self.on
        if d.weekday() not in self.weekdays:
            return False
        if self.kind == "weekly":
            return True
        if self.kind == "biweekly":
            assert self.anchor is not None
            anchor_monday = self.anchor - timedelta(days=self.anchor.weekday())
            return d >= self.anchor and (d - anchor_monday).days // 7 % 2 == 0
        # monthly_nth
        if self.nth == -1:
            return (d + timedelta(days=7)).month != d.month
        return (d.day - 1) // 7 + 1 == self.nth

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; `Recurrence.from_dict(r.to_dict()) == r`."""
        out: dict[str, Any] = {"kind": self.kind, "holidays": self.holidays}
        if self.kind in ("weekly", "biweekly"):
            out["weekdays"] = [WEEKDAY_CODES[d] for d in sorted(self.weekdays)]
        if self.kind == "monthly_nth":
            out["weekday"] = WEEKDAY_CODES[min(self.weekdays)]
            out["nth"] = self.nth
        for name in ("anchor", "start_date", "end_date"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        if self.on is not None:
            out["date"] = self.on.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Recurrence:
        """Parse the YAML/JSON form (see storage/data/programs.example.yaml). A bare string is a kind."""
        if isinstance(data, str):
            data = {"kind": data}
        if not isinstance(data, Mapping):
            raise RecurrenceError("programs.error.bad_recurrence", value=str(data))
        allowed = {"kind", "weekdays", "weekday", "anchor", "nth", "date", "holidays", "start_date", "end_date"}
        for key in data:
            if key not in allowed:
                raise RecurrenceError("programs.error.unknown_field", field=f"recurrence.{key}")
        raw_kind = norm(data.get("kind", ""))
        if not raw_kind:
            raise RecurrenceError("programs.error.missing_field", field="recurrence.kind")
        kind = _KIND_ALIASES.get(raw_kind, raw_kind)
        if kind not in KINDS:
            raise RecurrenceError("programs.error.unknown_kind", value=str(data.get("kind")))
        days_value = data.get("weekdays", data.get("weekday"))
        weekdays = parse_weekdays(days_value) if days_value not in (None, "", []) else frozenset()
        anchor = parse_date(data["anchor"], "anchor") if data.get("anchor") is not None else None
        if kind == "biweekly" and not weekdays and anchor is not None:
            weekdays = frozenset({anchor.weekday()})
        return cls(
            kind=kind,
            weekdays=weekdays if kind != "daily" and kind != "once" else frozenset(),
            anchor=anchor if kind == "biweekly" else None,
            nth=parse_nth(data.get("nth")) if kind == "monthly_nth" else None,
            on=parse_date(data["date"], "date") if kind == "once" and data.get("date") else None,
            holidays=parse_holidays(data.get("holidays", "keep")),
            start_date=opt_date(data, "start_date"),
            end_date=opt_date(data, "end_date"),
        )


# --- occurrences -------------------------------------------------------------------------------


class Scheduled(Protocol):
    """What `occurrences` needs from a programme (storage.programs.StoredProgram satisfies it)."""

    @property
    def recurrence(self) -> Recurrence: ...
    @property
    def start_time(self) -> time: ...
    @property
    def duration_min(self) -> int: ...


@dataclass(frozen=True)
class Occurrence:
    """One airing. `start`/`end` are aware UTC; `local_date` is the line-up day (local date of start)."""

    programme: Any
    start: datetime
    end: datetime
    local_date: date
    tz: tzinfo = field(default=DEFAULT_TZ, compare=False, repr=False)

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.tz)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.tz)


def _as_tz(tz: tzinfo | str | None) -> tzinfo:
    if tz is None:
        return DEFAULT_TZ
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


def occurrences(
    programme: Scheduled, start: datetime, end: datetime, tz: tzinfo | str | None = None
) -> list[Occurrence]:
    """Airings whose start lies in [start, end), in time order; start/end must be aware."""
    zone = _as_tz(tz)
    start, end = _aware(start, "start"), _aware(end, "end")
    day, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    found: list[Occurrence] = []
    while day <= last:
        if programme.recurrence.occurs_on(day):
            begins = datetime.combine(day, programme.start_time, tzinfo=zone).astimezone(UTC)
            if start <= begins < end:
                ends = begins + timedelta(minutes=programme.duration_min)
                found.append(Occurrence(programme, begins, ends, day, zone))
        day += timedelta(days=1)
    return found


def day_bounds(day: date, tz: tzinfo | str | None = None) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a local calendar day: the window of that day's line-up."""
    zone = _as_tz(tz)
    begins = datetime.combine(day, time(0), tzinfo=zone)
    ends = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return begins.astimezone(UTC), ends.astimezone(UTC)
