"""Checking one programme as the import file or the organiser's modal gives it (a plain mapping).

Every problem found is returned, not only the first, as `Problem(key, params)`: `key` names a text
in the catalogue (bot/texts), `params` fill it in. Nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from storage.programs import NAME_MAX, ProgramSpec, name_key
from storage.recurrence import Recurrence, RecurrenceError, parse_duration, parse_time

UserCheck = Callable[[str], Awaitable[bool]]

FIELDS = frozenset(
    {
        "name",
        "title",
        "description",
        "personalities",
        "start",
        "start_time",
        "duration",
        "duration_min",
        "recurrence",
        "holidays",
        "start_date",
        "end_date",
        "channel",
        "stream_url",
        "archive_url",
        "active",
    }
)
TITLE_MAX, DESCRIPTION_MAX, URL_MAX = 200, 3000, 500
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,31}$")
_URL = re.compile(r"^https?://[^\s<>|]+$")


class Problem(NamedTuple):
    """One reason an entry (or the file) was refused: a catalogue key and its parameters."""

    key: str
    params: dict[str, Any]


# --- validating one entry ----------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, limit: int, problems: list[Problem]) -> str | None:
    value = data.get(key)
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if len(text) > limit:
        problems.append(Problem("programs.error.too_long", {"field": key, "max": limit}))
    return text


def _user_ids(value: Any, problems: list[Problem]) -> list[str]:
    items = value if isinstance(value, list) else [] if value in (None, "") else [value]
    users: list[str] = []
    for item in items:
        user = str(item).strip().removeprefix("<@").removesuffix(">").split("|")[0]
        if not _USER_ID.match(user):
            problems.append(Problem("programs.error.bad_user", {"value": str(item)}))
        elif user not in users:
            users.append(user)
    return users


def _channel(value: Any, problems: list[Problem]) -> str | None:
    if value in (None, ""):
        return None
    channel = str(value).strip().removeprefix("<#").removesuffix(">").split("|")[0]
    if _CHANNEL_ID.match(channel):
        return channel
    problems.append(Problem("programs.error.bad_channel", {"value": str(value)}))
    return None


def _url(data: Mapping[str, Any], key: str, problems: list[Problem]) -> str | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    url = str(value).strip()
    if len(url) > URL_MAX or not _URL.match(url):
        problems.append(Problem("programs.error.bad_url", {"field": key, "value": url}))
        return None
    return url


def _recurrence(data: Mapping[str, Any]) -> Recurrence:
    raw = data.get("recurrence")
    if raw in (None, ""):
        raise RecurrenceError("programs.error.missing_field", field="recurrence")
    merged: dict[str, Any] = {"kind": raw} if isinstance(raw, str) else raw
    if isinstance(merged, Mapping):  # holidays / start_date / end_date may sit on the entry itself
        merged = dict(merged)
        for key in ("holidays", "start_date", "end_date"):
            if key in data and key not in merged:
                merged[key] = data[key]
    return Recurrence.from_dict(merged)


def _parsed(data: Mapping[str, Any], keys: tuple[str, str], parse, problems: list[Problem]):
    value = data.get(keys[0], data.get(keys[1]))
    if value in (None, ""):
        problems.append(Problem("programs.error.missing_field", {"field": keys[0]}))
        return None
    try:
        return parse(value)
    except RecurrenceError as exc:
        problems.append(Problem(exc.key, exc.params))
        return None


def parse_program(data: Any) -> tuple[ProgramSpec | None, list[Problem]]:
    """Check one entry without asking Slack; every problem found is listed, not only the first."""
    if not isinstance(data, Mapping):
        return None, [Problem("programs.error.not_a_mapping", {})]
    problems = [Problem("programs.error.unknown_field", {"field": str(key)}) for key in data if key not in FIELDS]
    title = _text(data, "title", TITLE_MAX, problems)
    if title is None:
        problems.append(Problem("programs.error.missing_field", {"field": "title"}))
    name = _text(data, "name", NAME_MAX, problems) or title
    if name is not None and not name_key(name):
        problems.append(Problem("programs.error.bad_name", {"value": name}))
    description = _text(data, "description", DESCRIPTION_MAX, problems) or ""
    personalities = _user_ids(data.get("personalities"), problems)
    start = _parsed(data, ("start", "start_time"), parse_time, problems)
    duration = _parsed(data, ("duration", "duration_min"), parse_duration, problems)
    recurrence = None
    try:
        recurrence = _recurrence(data)
    except RecurrenceError as exc:
        problems.append(Problem(exc.key, exc.params))
    channel = _channel(data.get("channel"), problems)
    stream_url, archive_url = _url(data, "stream_url", problems), _url(data, "archive_url", problems)
    active = data.get("active", True)
    if not isinstance(active, bool):
        problems.append(Problem("programs.error.bad_bool", {"field": "active", "value": str(active)}))
    if problems:
        return None, problems
    spec = ProgramSpec(
        name=name,
        title=title,
        description=description,
        personalities=tuple(personalities),
        recurrence=recurrence,
        start_time=start,
        duration_min=duration,
        channel=channel,
        stream_url=stream_url,
        archive_url=archive_url,
        active=active,
    )
    return spec, []


async def validate_program(
    data: Any, *, user_exists: UserCheck | None = None, known: dict[str, bool] | None = None
) -> tuple[ProgramSpec | None, list[Problem]]:
    """`parse_program`, then every personality is checked with `user_exists` (cached in `known`)."""
    spec, problems = parse_program(data)
    if user_exists is None or not isinstance(data, Mapping):
        return spec, problems
    known = {} if known is None else known
    for user in _user_ids(data.get("personalities"), []):
        if user not in known:
            known[user] = bool(await user_exists(user))
        if not known[user]:
            problems.append(Problem("programs.error.unknown_user", {"user": user}))
    return (None, problems) if problems else (spec, [])
