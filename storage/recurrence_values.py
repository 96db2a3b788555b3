"""Parsing of the single values a schedule is made of: times, durations, dates, weekdays.

Pure. Every failure is a `RecurrenceError(key, **params)` whose key names a catalogue text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any

HOLIDAY_POLICIES = ("skip", "keep")
MAX_DURATION_MIN = 24 * 60
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WEEKDAY_WORDS = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_KANJI_DAYS = "月火水木金土日"
_WEEKDAY_GROUPS = {
    "平日": range(5),
    "weekdays": range(5),
    "土日": range(5, 7),
    "weekend": range(5, 7),
    "weekends": range(5, 7),
}
_SPLIT = re.compile(r"[,、，・/\s]+")
_RANGE = re.compile(r"^(.+?)[-〜~ー－](.+)$")
_TIME = re.compile(r"^(\d{1,2}):(\d{1,2})$")


class RecurrenceError(ValueError):
    """A schedule that cannot be; `key` is a catalogue text key and `params` fill it in."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(f"{key} {params}")
        self.key = key
        self.params = params


def norm(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


def parse_time(value: Any) -> time:
    """A local time of day from "09:00", "9:00", "０９：００" or a `time`; 25:00 and 9:75 are errors."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = norm(value)
    match = _TIME.match(text)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise RecurrenceError("programs.error.bad_time", value=str(value))


def format_time(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_duration(value: Any) -> int:
    """Whole minutes, 1..1440."""
    if isinstance(value, bool):
        raise RecurrenceError("programs.error.bad_duration", value=str(value))
    try:
        minutes = int(norm(value)) if not isinstance(value, int) else value
    except ValueError:
        raise RecurrenceError("programs.error.bad_duration", value=str(value)) from None
    if not 0 < minutes <= MAX_DURATION_MIN:
        raise RecurrenceError("programs.error.bad_duration", value=str(value))
    return minutes


def parse_date(value: Any, field_name: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(norm(value).replace("/", "-"))
    except ValueError:
        raise RecurrenceError("programs.error.bad_date", field=field_name, value=str(value)) from None


def _one_weekday(token: str) -> int:
    token = token.strip("()（）[]")
    token = token.removesuffix("曜日").removesuffix("曜")
    if token in _WEEKDAY_WORDS:
        return _WEEKDAY_WORDS[token]
    if len(token) == 1 and token in _KANJI_DAYS:
        return _KANJI_DAYS.index(token)
    raise RecurrenceError("programs.error.bad_weekday", value=token)


def _weekday_piece(piece: str) -> list[int]:
    if piece in _WEEKDAY_GROUPS:
        return list(_WEEKDAY_GROUPS[piece])
    ranged = _RANGE.match(piece)
    if ranged:
        first, last = _one_weekday(ranged.group(1)), _one_weekday(ranged.group(2))
        return [(first + i) % 7 for i in range((last - first) % 7 + 1)]
    compact = piece.strip("()（）").replace("曜日", "").replace("曜", "")
    if len(compact) > 1 and all(ch in _KANJI_DAYS for ch in compact):
        return [_KANJI_DAYS.index(ch) for ch in compact]
    return [_one_weekday(piece)]


def parse_weekdays(value: Any) -> frozenset[int]:
    """mon..sun, monday, 月..日, 月曜, 月曜日, "月水金", "mon-fri", "月〜金", 平日, 土日; a list or a string."""
    items: Iterable[Any] = value if isinstance(value, list | tuple | set | frozenset) else [value]
    days: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 6:
            days.add(item)
            continue
        for piece in _SPLIT.split(norm(item)):
            if piece:
                days.update(_weekday_piece(piece))
    if not days:
        raise RecurrenceError("programs.error.bad_weekday", value=str(value))
    return frozenset(days)


def weekday_codes(days: Iterable[int]) -> str:
    return ",".join(WEEKDAY_CODES[d] for d in sorted(days))


def opt_date(data: Mapping[str, Any], name: str) -> date | None:
    value = data.get(name)
    return None if value in (None, "") else parse_date(value, name)


def parse_nth(value: Any) -> int:
    text = norm(value) if value is not None else ""
    text = {"last": "-1", "最終": "-1"}.get(text, text.removeprefix("第"))
    try:
        nth = int(text)
    except ValueError:
        raise RecurrenceError("programs.error.bad_nth", value=str(value)) from None
    if not (1 <= nth <= 5 or nth == -1):
        raise RecurrenceError("programs.error.bad_nth", value=str(value))
    return nth


def parse_holidays(value: Any) -> str:
    if isinstance(value, bool):  # `holidays: false` reads as "do not air on holidays"
        return "keep" if value else "skip"
    text = norm(value)
    text = {"休み": "skip", "休止": "skip", "放送": "keep", "通常": "keep"}.get(text, text)
    if text not in HOLIDAY_POLICIES:
        raise RecurrenceError("programs.error.bad_holidays", value=str(value))
    return text
