"""庁内放送 messages: the daily line-up (with a subscribe button per programme), the week, reminders."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.blocks.common import Block, Mrkdwn, button, context, divider, esc, header, message, row_value, safe, section
from bot.texts import Texts
from storage.recurrence import Occurrence, format_time

SUBSCRIBE = "programs.subscribe"  # action_id of the line-up button; value = programme id


def day_label(texts: Texts, day: date) -> str:
    weekday = texts("programs.weekdays").split(",")[day.weekday()]
    return texts("programs.date", month=day.month, day=day.day, weekday=weekday)


def time_range(texts: Texts, occ: Occurrence) -> str:
    start, end = occ.local_start, occ.local_end
    end_text = format_time(end.time())
    if end.date() != start.date():
        end_text = texts("programs.lineup.next_day", time=end_text)
    return texts("programs.lineup.time", start=format_time(start.time()), end=end_text)


def _people(users: tuple[str, ...]) -> Mrkdwn:
    # Personalities are validated Slack ids we store (U…/W…), never free text, so a mention is safe.
    return safe(" ".join(f"<@{esc(user)}>" for user in users))


def occurrence_text(texts: Texts, occ: Occurrence, *, broadcast: str | None, details: bool = True) -> Mrkdwn:
    program = occ.programme
    lines = [f"{time_range(texts, occ)}  {esc(program.title)}"]
    if not details:
        return safe(lines[0])
    if program.personalities:
        lines.append(texts("programs.lineup.hosts", people=_people(program.personalities)))
    if program.channel and program.channel != broadcast:
        lines.append(texts("programs.lineup.channel", channel=safe(f"<#{esc(program.channel)}>")))
    links = []
    if program.stream_url:  # URLs are validated (http(s), no spaces, <, > or |) before they are stored
        links.append(f"<{program.stream_url}|{texts('programs.lineup.stream')}>")
    if program.archive_url:
        links.append(f"<{program.archive_url}|{texts('programs.lineup.archive')}>")
    if links:
        lines.append(" · ".join(links))
    return safe("\n".join(lines))


def lineup_message(
    texts: Texts,
    day: date,
    occurrences: list[Occurrence],
    *,
    minutes: int,
    broadcast: str | None,
    holiday: str | None = None,
) -> dict[str, Any]:
    """One day's programmes in time order; each with a "notify me" button."""
    label = day_label(texts, day)
    blocks: list[Block] = [header(texts("programs.lineup.title", date=label))]
    if holiday:
        blocks.append(context(texts("programs.lineup.holiday", name=holiday)))
    if not occurrences:
        blocks.append(section(texts("programs.lineup.empty")))
    for occ in occurrences[:40]:  # Slack allows 50 blocks; no day has 40 programmes
        accessory = button(texts("programs.lineup.subscribe"), SUBSCRIBE, row_value(occ.programme.id))
        blocks.append(section(occurrence_text(texts, occ, broadcast=broadcast), accessory=accessory))
    if occurrences:
        blocks.append(context(texts("programs.lineup.footer", minutes=minutes)))
    return message(texts("programs.lineup.fallback", date=label), blocks)


def week_message(
    texts: Texts, days: list[tuple[date, list[Occurrence]]], *, minutes: int, broadcast: str | None
) -> dict[str, Any]:
    """Several days, one section each (no buttons: the daily line-up and /programs today have them)."""
    first, last = day_label(texts, days[0][0]), day_label(texts, days[-1][0])
    blocks: list[Block] = [header(texts("programs.week.title", start=first, end=last))]
    for day, occurrences in days:
        lines = [f"*{day_label(texts, day)}*"]
        lines += [occurrence_text(texts, o, broadcast=broadcast, details=False) for o in occurrences]
        if not occurrences:
            lines.append(texts("programs.week.empty_day"))
        blocks.append(section("\n".join(lines)))
    blocks.append(divider())
    blocks.append(context(texts("programs.lineup.footer", minutes=minutes)))
    return message(texts("programs.week.fallback"), blocks)


def reminder_message(texts: Texts, occ: Occurrence, *, minutes: int, kind: str = "post") -> dict[str, Any]:
    """kind: "post" (the channel), "dm_subscriber" or "dm_personality"."""
    program = occ.programme
    start = format_time(occ.local_start.time())
    lines = [texts(f"programs.reminder.{kind}", title=program.title, minutes=minutes, start=start)]
    if program.personalities:
        lines.append(texts("programs.lineup.hosts", people=_people(program.personalities)))
    if program.stream_url:
        lines.append(texts("programs.reminder.watch", url=program.stream_url))
    fallback = texts("programs.reminder.fallback", title=program.title)
    return message(fallback, [section("\n".join(lines))], unfurl_links=False)
