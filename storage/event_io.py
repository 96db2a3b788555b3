"""`yakuba import events FILE` / `yakuba export events FILE`: the event catalogue in YAML or CSV.

Keys (README "Events"): key, title, kind, starts_at, ends_at, capacity, deadline, audience (`all`, `pref:NN`
by JIS code, `ka:NAME`), join_url, venue, hosts, description, fee, archive_url, recurrence (the programmes'
syntax, storage/data/programs.example.yaml). Times without an offset are local (YAKUBA_TZ); they are stored
in UTC. A series (an entry with a recurrence) becomes one event per occurrence up to HORIZON ahead (or its
end_date), each keyed `KEY@YYYY-MM-DD`; its first occurrence is starts_at, its deadline the same time before
each start. A bad line is reported with its line and reasons and nothing of it is saved; good lines are
upserted by key, so importing the same file again changes nothing. The same checks serve the organisers' modal.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

import yaml

from storage import events
from storage.db import Database
from storage.io_errors import FileProblem
from storage.models import EVENT_FIELDS, Event
from storage.recurrence import DEFAULT_TZ, Recurrence, RecurrenceError, occurrences
from storage.section_io import Problem, Report, read_rows

KIND_ALIASES = {
    "説明会": "setsumeikai",
    "勉強会": "benkyokai",
    "交流会": "koryukai",
    "セミナー": "seminar",
    "トークライブ": "talk",
    "lt会": "lt",
    "視察ツアー": "tour",
    "ツアー": "tour",
    "その他": "other",
    **{k: k for k in events.KINDS},
}
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
URL = re.compile(r"^https?://[^\s<>|]{1,490}$")
LIMITS = {"title": 200, "venue": 200, "fee": 200, "description": 3000}
LIST_SPLIT = re.compile(r"[|,、，\s]+")
PREFECTURE_CODES = frozenset(f"{n:02d}" for n in range(1, 48))  # JIS X 0401
HORIZON = timedelta(days=91)  # how far ahead a series is laid out (a later import or edit lays out more)
FIELDS = (*EVENT_FIELDS, "recurrence", "publish")
EXPORTED = FIELDS[:-1]


def _moment(value: Any, tz: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        return None
    else:
        try:
            found = datetime.fromisoformat(str(value).strip().replace("/", "-"))
        except ValueError:
            return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=tz)
    return found.astimezone(UTC)


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else LIST_SPLIT.split(str(value))
    return [str(i).strip() for i in items if str(i).strip()]


def _text(raw: dict, name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value).strip()


def check_audience(value: str, sections: Iterable[str] | None) -> tuple[str | None, Problem | None]:
    """`all`, `pref:13` (JIS code, one digit padded) or `ka:NAME` (a 課 that exists, when `sections` is known)."""
    text = (value or "all").strip()
    if text.lower() == "all":
        return "all", None
    kind, _, rest = text.partition(":")
    rest = rest.strip()
    if kind.lower() == "pref" and rest.isascii() and rest.isdigit() and rest.zfill(2) in PREFECTURE_CODES:
        return f"pref:{rest.zfill(2)}", None
    if kind.lower() == "ka" and rest:
        if sections is not None and events.audience_key(f"ka:{rest}") not in {
            events.audience_key(f"ka:{s}") for s in sections
        }:
            return None, Problem("unknown_section", {"name": rest[:64]})
        return f"ka:{rest[:76]}", None
    return None, Problem("bad_audience", {"value": text[:40]})


@dataclass(frozen=True)
class Parsed:
    spec: events.EventSpec
    line: int | None = None


def parse(
    raw: Any, *, tz: tzinfo = DEFAULT_TZ, sections: Iterable[str] | None = None
) -> events.EventSpec | list[Problem]:
    """One catalogue line checked; a spec, or every reason it is refused (keys under events.import.errors)."""
    if not isinstance(raw, dict):
        return [Problem("not_a_mapping")]
    problems: list[Problem] = []
    unknown = [k for k in raw if str(k) not in FIELDS]
    if unknown:
        problems.append(Problem("unknown_field", {"field": str(unknown[0])[:40]}))
    text = {k: _text(raw, k) for k in ("key", "title", "venue", "fee", "description")}
    for name, limit in LIMITS.items():
        if len(text[name]) > limit:
            problems.append(Problem("too_long", {"field": name, "limit": limit}))
    if not text["key"]:
        problems.append(Problem("missing", {"field": "key"}))
    elif not KEY.match(text["key"]):
        problems.append(Problem("bad_key", {"key": text["key"][:40]}))
    if not text["title"]:
        problems.append(Problem("missing", {"field": "title"}))
    kind = KIND_ALIASES.get(_text(raw, "kind").lower() or "other")
    if kind is None:
        problems.append(Problem("bad_kind", {"kind": _text(raw, "kind")[:40]}))
    starts = _moment(raw.get("starts_at"), tz) if raw.get("starts_at") not in (None, "") else None
    ends = _moment(raw.get("ends_at"), tz) if raw.get("ends_at") not in (None, "") else None
    for name, value in (("starts_at", starts), ("ends_at", ends)):
        if raw.get(name) in (None, ""):
            problems.append(Problem("missing", {"field": name}))
        elif value is None:
            problems.append(Problem("bad_time", {"field": name, "value": _text(raw, name)[:40]}))
    if starts and ends and ends <= starts:
        problems.append(Problem("end_before_start"))
    deadline = None
    if raw.get("deadline") not in (None, ""):
        deadline = _moment(raw.get("deadline"), tz)
        if deadline is None:
            problems.append(Problem("bad_time", {"field": "deadline", "value": _text(raw, "deadline")[:40]}))
        elif starts and deadline > starts:
            problems.append(Problem("deadline_after_start"))
    capacity = None
    if raw.get("capacity") not in (None, ""):
        value = _text(raw, "capacity")
        if not (value.isascii() and value.isdigit() and 0 < int(value) <= 100000):
            problems.append(Problem("bad_capacity", {"value": value[:20]}))
        else:
            capacity = int(value)
    audience, why = check_audience(_text(raw, "audience"), sections)
    if why:
        problems.append(why)
    urls = {}
    for name in ("join_url", "archive_url"):
        value = _text(raw, name)
        if value and not URL.match(value):
            problems.append(Problem("bad_url", {"field": name}))
        urls[name] = value or None
    hosts = _list(raw.get("hosts"))
    bad = [u for u in hosts if not USER_ID.match(u)]
    if bad:
        problems.append(Problem("bad_host", {"host": bad[0][:40]}))
    recurrence = None
    spec_rec = raw.get("recurrence")
    if spec_rec not in (None, ""):
        try:
            if isinstance(spec_rec, str) and spec_rec.strip().startswith("{"):
                spec_rec = yaml.safe_load(spec_rec)
            recurrence = Recurrence.from_dict(spec_rec)
        except (RecurrenceError, yaml.YAMLError) as exc:
            key = exc.key if isinstance(exc, RecurrenceError) else "programs.error.bad_recurrence"
            params = exc.params if isinstance(exc, RecurrenceError) else {"value": _text(raw, "recurrence")[:40]}
            problems.append(Problem(key, dict(params)))  # a whole key: the programmes' own wording
    publish = raw.get("publish", False)
    if isinstance(publish, str):
        publish = publish.strip().lower() in ("true", "yes", "1", "on")
    if problems:
        return problems
    assert starts is not None and ends is not None and kind is not None and audience is not None
    return events.EventSpec(
        key=text["key"],
        title=text["title"],
        kind=kind,
        starts_at=starts,
        ends_at=ends,
        capacity=capacity,
        deadline=deadline,
        hosts=tuple(dict.fromkeys(hosts)),
        audience=audience,
        join_url=urls["join_url"],
        venue=text["venue"] or None,
        description=text["description"],
        fee=text["fee"] or None,
        archive_url=urls["archive_url"],
        recurrence=recurrence,
        publish=bool(publish),
    )


@dataclass(frozen=True)
class _Series:
    recurrence: Recurrence
    start_time: time
    duration_min: int


def expand(spec: events.EventSpec, *, now: datetime, tz: tzinfo = DEFAULT_TZ) -> list[events.EventSpec]:
    """A series laid out as occurrences from its first start up to HORIZON past `now` (or its end_date)."""
    if spec.recurrence is None:
        return [spec]
    local = spec.starts_at.astimezone(tz)
    length = spec.ends_at - spec.starts_at
    lead = spec.starts_at - spec.deadline if spec.deadline else None
    series = _Series(spec.recurrence, local.timetz().replace(tzinfo=None), max(1, int(length.total_seconds() // 60)))
    until = max(now, spec.starts_at) + HORIZON
    out = []
    for occ in occurrences(series, spec.starts_at, until, tz):
        out.append(
            replace(
                spec,
                key=f"{spec.key}@{occ.local_date.isoformat()}",
                series_key=spec.key,
                starts_at=occ.start,
                ends_at=occ.start + length,
                deadline=occ.start - lead if lead is not None else None,
            )
        )
    return out


async def import_events(
    *,
    db: Database,
    team_id: str,
    path: Path,
    now: datetime,
    tz: tzinfo = DEFAULT_TZ,
    sections: Iterable[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_saved: Callable[[Event, str, bool], Awaitable[Any]] | None = None,
) -> Report:
    """Import a catalogue file; `on_saved(event, outcome, publish)` is awaited for each occurrence saved."""
    report = Report()
    try:
        rows = read_rows(path, "events")
    except FileProblem as exc:
        report.file_error = Problem(exc.key, exc.params)
        return report
    report.total = len(rows)
    known = list(sections) if sections is not None else None
    seen: set[str] = set()
    for done, (line, raw) in enumerate(rows, 1):
        parsed = parse(raw, tz=tz, sections=known)
        key = str(raw.get("key") or "")[:100] if isinstance(raw, dict) else ""
        if isinstance(parsed, events.EventSpec) and parsed.key in seen:
            parsed = [Problem("duplicate", {"key": parsed.key})]
        if isinstance(parsed, list):
            report.errors.append((line, key, parsed))
        else:
            seen.add(parsed.key)
            outcomes = set()
            for one in expand(parsed, now=now, tz=tz):
                row, outcome = await events.upsert(db, team_id=team_id, spec=one)
                outcomes.add(outcome)
                if on_saved is not None:
                    await on_saved(row, outcome, parsed.publish)
            summary = "created" if "created" in outcomes else "updated" if "updated" in outcomes else "unchanged"
            getattr(report, summary).append(parsed.key)
        if on_progress is not None:
            on_progress(done, len(rows))
    return report


def _local(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def to_entries(rows: list[Event], tz: tzinfo = DEFAULT_TZ) -> list[dict[str, Any]]:
    """The file form: one entry per single event and one per series (its earliest stored occurrence)."""
    out: list[dict[str, Any]] = []
    done_series: set[str] = set()
    for row in sorted(rows, key=lambda r: (r.starts_at, r.id)):
        if row.series_key:
            if row.series_key in done_series:
                continue
            done_series.add(row.series_key)
        entry: dict[str, Any] = {
            "key": row.series_key or row.key,
            "title": row.title,
            "kind": row.kind,
            "starts_at": _local(row.starts_at, tz),
            "ends_at": _local(row.ends_at, tz),
        }
        optional = {
            "capacity": row.capacity,
            "deadline": _local(row.deadline, tz) or None,
            "audience": row.audience,
            "join_url": row.join_url,
            "venue": row.venue,
            "hosts": list(row.hosts or []) or None,
            "description": row.description or None,
            "fee": row.fee,
            "archive_url": None if row.series_key else row.archive_url,
            "recurrence": row.recurrence,
        }
        entry.update({k: v for k, v in optional.items() if v not in (None, "", [])})
        out.append(entry)
    return out


def export_text(rows: list[Event], *, csv_format: bool, tz: tzinfo = DEFAULT_TZ) -> str:
    entries = to_entries(rows, tz)
    if not csv_format:
        return yaml.safe_dump({"events": entries}, allow_unicode=True, sort_keys=False)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORTED), lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        cells = dict(entry)
        if "hosts" in cells:
            cells["hosts"] = "|".join(cells["hosts"])
        if "recurrence" in cells:
            cells["recurrence"] = yaml.safe_dump(
                cells["recurrence"], default_flow_style=True, allow_unicode=True
            ).strip()
        writer.writerow(cells)
    return buffer.getvalue()
