"""storage.recurrence: which days a programme is on, and exactly when, in JST and UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from storage.recurrence import (
    Recurrence,
    RecurrenceError,
    day_bounds,
    holiday_name,
    is_holiday,
    occurrences,
    parse_duration,
    parse_time,
    parse_weekdays,
)

JST = "Asia/Tokyo"


@dataclass(frozen=True)
class Prog:
    title: str
    recurrence: Recurrence
    start_time: time
    duration_min: int


def prog(title: str, start: str, minutes: int, **recurrence) -> Prog:
    return Prog(title, Recurrence.from_dict(recurrence), parse_time(start), minutes)


CATALOGUE = [
    prog("体操", "06:30", 10, kind="daily"),
    prog("おはよう", "07:30", 15, kind="weekly", weekdays="月〜金", holidays="skip"),
    prog("ワクチン", "10:00", 90, kind="biweekly", weekdays=["土曜"], anchor="2026-11-14"),
    prog("夜の自習室", "23:30", 60, kind="daily", holidays="skip"),
]


def week(programmes, first_day: date, days: int = 7):
    start, _ = day_bounds(first_day, JST)
    _, end = day_bounds(first_day + timedelta(days=days - 1), JST)
    found = [o for p in programmes for o in occurrences(p, start, end, JST)]
    found.sort(key=lambda o: o.start)
    return [
        (o.programme.title, o.local_start.strftime("%m-%d %H:%M"), o.local_end.strftime("%m-%d %H:%M")) for o in found
    ]


def test_a_week_of_the_catalogue_with_a_holiday_and_every_other_saturday():
    # 2026-11-23 (Mon) is 勤労感謝の日: the weekday and the late programme skip it.
    assert week(CATALOGUE, date(2026, 11, 23)) == [
        ("体操", "11-23 06:30", "11-23 06:40"),
        ("体操", "11-24 06:30", "11-24 06:40"),
        ("おはよう", "11-24 07:30", "11-24 07:45"),
        ("夜の自習室", "11-24 23:30", "11-25 00:30"),
        ("体操", "11-25 06:30", "11-25 06:40"),
        ("おはよう", "11-25 07:30", "11-25 07:45"),
        ("夜の自習室", "11-25 23:30", "11-26 00:30"),
        ("体操", "11-26 06:30", "11-26 06:40"),
        ("おはよう", "11-26 07:30", "11-26 07:45"),
        ("夜の自習室", "11-26 23:30", "11-27 00:30"),
        ("体操", "11-27 06:30", "11-27 06:40"),
        ("おはよう", "11-27 07:30", "11-27 07:45"),
        ("夜の自習室", "11-27 23:30", "11-28 00:30"),
        ("体操", "11-28 06:30", "11-28 06:40"),
        ("ワクチン", "11-28 10:00", "11-28 11:30"),
        ("夜の自習室", "11-28 23:30", "11-29 00:30"),
        ("体操", "11-29 06:30", "11-29 06:40"),
        ("夜の自習室", "11-29 23:30", "11-30 00:30"),
    ]


def test_the_week_before_has_no_vaccine_session():
    titles = [t for t, *_ in week(CATALOGUE, date(2026, 11, 16))]
    assert "ワクチン" not in titles
    assert titles.count("おはよう") == 5


def test_every_other_saturday_counts_from_the_anchor():
    r = Recurrence.from_dict({"kind": "biweekly", "anchor": "2026-11-14"})
    assert r.weekdays == frozenset({5})
    on = [d for d in (date(2026, 10, 31) + timedelta(days=i) for i in range(75)) if r.occurs_on(d)]
    assert on == [date(2026, 11, 14), date(2026, 11, 28), date(2026, 12, 12), date(2026, 12, 26), date(2027, 1, 9)]


def test_across_midnight_start_and_end_in_utc_and_line_up_by_local_start():
    late = prog("深夜", "23:30", 60, kind="daily")
    start, end = day_bounds(date(2026, 11, 24), JST)
    assert (start, end) == (datetime(2026, 11, 23, 15, tzinfo=UTC), datetime(2026, 11, 24, 15, tzinfo=UTC))
    (only,) = occurrences(late, start, end, JST)
    assert only.start == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
    assert only.end == datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    assert only.local_date == date(2026, 11, 24)
    assert only.local_end.date() == date(2026, 11, 25)
    # Just after midnight JST is still the previous day in UTC, yet on this day's line-up.
    early = prog("未明", "00:15", 30, kind="daily")
    (first,) = occurrences(early, start, end, JST)
    assert first.start == datetime(2026, 11, 23, 15, 15, tzinfo=UTC)
    assert first.local_date == date(2026, 11, 24)


def test_window_is_half_open_and_needs_aware_datetimes():
    p = prog("体操", "06:30", 10, kind="daily")
    at = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 11-24 06:30 JST
    assert len(occurrences(p, at, at + timedelta(minutes=1), JST)) == 1
    assert occurrences(p, at - timedelta(hours=1), at, JST) == []
    with pytest.raises(ValueError):
        occurrences(p, datetime(2026, 11, 23), datetime(2026, 11, 24), JST)


def test_japanese_holidays():
    assert is_holiday(date(2026, 11, 23)) and holiday_name(date(2026, 11, 23)) == "勤労感謝の日"
    assert holiday_name(date(2026, 5, 6)) == "振替休日"
    assert not is_holiday(date(2026, 11, 24))
    skip = Recurrence.from_dict({"kind": "weekly", "weekdays": "mon", "holidays": "skip"})
    keep = Recurrence.from_dict({"kind": "weekly", "weekdays": "mon"})
    assert not skip.occurs_on(date(2026, 11, 23)) and keep.occurs_on(date(2026, 11, 23))
    assert skip.occurs_on(date(2026, 11, 30))
    assert not Recurrence.from_dict({"kind": "daily", "holidays": "skip"}).occurs_on(date(2026, 5, 6))


def _year(r: Recurrence, year: int = 2026) -> list[date]:
    first = date(year, 1, 1)
    return [d for d in (first + timedelta(days=i) for i in range(365)) if r.occurs_on(d)]


def test_monthly_nth_weekday_including_fifth_and_last():
    fifth = Recurrence.from_dict({"kind": "monthly_nth", "weekday": "火", "nth": 5})
    assert _year(fifth) == [date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 29), date(2026, 12, 29)]
    last = Recurrence.from_dict({"kind": "monthly_nth", "weekday": "tue", "nth": -1})
    assert [d.day for d in _year(last)] == [27, 24, 31, 28, 26, 30, 28, 25, 29, 27, 24, 29]
    second = Recurrence.from_dict({"kind": "monthly", "weekday": "火曜日", "nth": "第2"})
    assert [d for d in _year(second) if d.month == 11] == [date(2026, 11, 10)]
    first_skip = Recurrence.from_dict({"kind": "monthly_nth", "weekday": "tue", "nth": 1, "holidays": "skip"})
    assert [d for d in _year(first_skip) if d.month == 11] == []  # 11-03 is 文化の日


def test_once_and_date_bounds():
    once = Recurrence.from_dict({"kind": "once", "date": "2026-12-26"})
    assert _year(once) == [date(2026, 12, 26)]
    bounded = Recurrence.from_dict({"kind": "daily", "start_date": "2026-04-01", "end_date": "2026-04-03"})
    assert _year(bounded) == [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 3)]


@pytest.mark.parametrize(
    ("value", "days"),
    [
        ("月曜日", {0}),
        ("月曜", {0}),
        ("月", {0}),
        ("月水金", {0, 2, 4}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("月〜金", {0, 1, 2, 3, 4}),
        ("平日", {0, 1, 2, 3, 4}),
        (["Sat", "日曜"], {5, 6}),
        ("土, 日", {5, 6}),
        ("ｍｏｎ", {0}),
        ("Thursday", {3}),
        ("fri-mon", {4, 5, 6, 0}),
        ("(土)", {5}),
    ],
)
def test_weekday_spellings(value, days):
    assert parse_weekdays(value) == frozenset(days)


def test_round_trip_through_json_form():
    for data in [
        {"kind": "daily"},
        {"kind": "weekly", "weekdays": "月水金", "holidays": "skip", "end_date": "2027-03-31"},
        {"kind": "biweekly", "weekdays": "土", "anchor": "2026-11-14"},
        {"kind": "monthly_nth", "weekday": "tue", "nth": -1},
        {"kind": "once", "date": "2026-12-26"},
    ]:
        r = Recurrence.from_dict(data)
        assert Recurrence.from_dict(r.to_dict()) == r


def _error(call) -> tuple[str, dict]:
    with pytest.raises(RecurrenceError) as info:
        call()
    return info.value.key, info.value.params


@pytest.mark.parametrize("value", ["25:00", "9:75", "24:00", "nine", "", "12"])
def test_bad_times(value):
    assert _error(lambda: parse_time(value)) == ("programs.error.bad_time", {"value": value})


@pytest.mark.parametrize("value", [0, -5, 1441, "abc", True])
def test_bad_durations(value):
    assert _error(lambda: parse_duration(value))[0] == "programs.error.bad_duration"


def test_good_times_and_durations():
    assert parse_time("9:05") == time(9, 5)
    assert parse_time("０９：３０") == time(9, 30)
    assert parse_time("23:59") == time(23, 59)
    assert parse_duration("90") == 90 and parse_duration(1440) == 1440


@pytest.mark.parametrize(
    ("data", "key", "params"),
    [
        ({"kind": "weekly", "weekdays": ["mon", "funday"]}, "programs.error.bad_weekday", {"value": "funday"}),
        ({"kind": "weekly", "weekdays": "月曜x"}, "programs.error.bad_weekday", {"value": "月曜x"}),
        ({"kind": "weekly"}, "programs.error.missing_field", {"field": "weekdays"}),
        (
            {"kind": "daily", "start_date": "2026-12-01", "end_date": "2026-11-01"},
            "programs.error.date_order",
            {"start_date": "2026-12-01", "end_date": "2026-11-01"},
        ),
        ({"kind": "biweekly", "weekdays": "sat"}, "programs.error.missing_anchor", {}),
        (
            {"kind": "biweekly", "weekdays": "sat", "anchor": "2026-11-13"},
            "programs.error.anchor_weekday",
            {"anchor": "2026-11-13", "weekdays": "sat"},
        ),
        ({"kind": "monthly_nth", "weekday": "tue", "nth": 0}, "programs.error.bad_nth", {"value": "0"}),
        ({"kind": "monthly_nth", "weekday": "tue", "nth": 6}, "programs.error.bad_nth", {"value": "6"}),
        ({"kind": "monthly_nth", "weekday": "tue", "nth": -2}, "programs.error.bad_nth", {"value": "-2"}),
        ({"kind": "monthly_nth", "weekday": "tue"}, "programs.error.bad_nth", {"value": "None"}),
        ({"kind": "fortnightly"}, "programs.error.unknown_kind", {"value": "fortnightly"}),
        ({}, "programs.error.missing_field", {"field": "recurrence.kind"}),
        ({"kind": "once"}, "programs.error.missing_field", {"field": "date"}),
        ({"kind": "once", "date": "2026-13-01"}, "programs.error.bad_date", {"field": "date", "value": "2026-13-01"}),
        ({"kind": "daily", "holidays": "maybe"}, "programs.error.bad_holidays", {"value": "maybe"}),
        ({"kind": "daily", "every": 2}, "programs.error.unknown_field", {"field": "recurrence.every"}),
    ],
)
def test_bad_recurrences(data, key, params):
    assert _error(lambda: Recurrence.from_dict(data)) == (key, params)
