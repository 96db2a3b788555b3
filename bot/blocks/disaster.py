"""Disaster check-ins as Block Kit: the post with its buttons and tally, the answers for helpers, the help DM."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from bot.blocks.common import (
    Block,
    actions,
    button,
    context,
    esc,
    header,
    join,
    message,
    plain,
    row_value,
    safe,
    section,
    sections,
)
from bot.texts import Texts
from storage.data import prefecture
from storage.disaster import STATUSES, Tally
from storage.models import DisasterCheckin

ANSWER_ACTION = "disaster.answer"  # + "." + status; the value is the check-in id (row_value)
VIEW_ACTION = "disaster.view"
ANSWERS_VIEW = "disaster.answers"
CITIES_SHOWN = 12  # a long list of municipalities is clipped: the post must stay readable on a phone


def intensity_label(texts: Texts, code: str | None) -> str:
    """JMA's code as people say it: 5- → 5弱."""
    key = f"disaster.intensity.{code}"
    return texts(key) if code and texts.has(key) else "-"


def status_label(texts: Texts, status: str) -> str:
    return texts(f"disaster.status.{status}")


def prefecture_name(code: str) -> str:
    pref = prefecture(code)
    return pref.name if pref else code


def _when(value: str | None, tz: tzinfo) -> str:
    if not value:
        return "-"
    return datetime.fromisoformat(value).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def checkin_message(texts: Texts, checkin: DisasterCheckin, tally: Tally, tz: tzinfo) -> dict[str, Any]:
    """The post: what happened, a gentle prompt, the three answers and the counts (never who answered what)."""
    info = checkin.info or {}
    pref = prefecture_name(checkin.pref_code)
    intensity = intensity_label(texts, info.get("max_int"))
    blocks: list[Block] = []
    if checkin.drill:
        blocks.append(section(texts("disaster.post.drill")))
    if checkin.withdrawn:
        blocks.append(section(texts("disaster.post.withdrawn")))
    if checkin.kind == "manual":
        text = texts("disaster.post.text_manual", prefecture=pref)
        blocks.append(header(texts("disaster.post.header_manual", prefecture=pref)))
        if info.get("message"):
            blocks.append(section(texts("disaster.post.message", message=info["message"])))
        if checkin.created_by:
            blocks.append(context(texts("disaster.post.started_by", user=safe(esc(checkin.created_by)))))
    else:
        text = texts("disaster.post.text", prefecture=pref, intensity=intensity)
        blocks.append(header(texts("disaster.post.header", prefecture=pref, intensity=intensity)))
        fields = [texts("disaster.post.when", when=_when(info.get("occurred_at"), tz))]
        if info.get("epicentre"):
            magnitude = info.get("magnitude")
            fields.append(
                texts("disaster.post.epicentre_magnitude", epicentre=info["epicentre"], magnitude=f"{magnitude:.1f}")
                if isinstance(magnitude, int | float)
                else texts("disaster.post.epicentre", epicentre=info["epicentre"])
            )
        fields.append(texts("disaster.post.intensity", prefecture=pref, intensity=intensity))
        blocks.append({"type": "section", "fields": [{"type": "mrkdwn", "text": field} for field in fields]})
        cities = list(info.get("cities") or [])
        if cities:
            shown = join(texts("disaster.post.separator"), cities[:CITIES_SHOWN])
            if len(cities) > CITIES_SHOWN:
                shown = texts("disaster.post.cities_more", cities=shown, count=len(cities) - CITIES_SHOWN)
            level = intensity_label(texts, info.get("level"))
            blocks.append(section(texts("disaster.post.cities", intensity=level, cities=shown)))
        if info.get("unreported"):
            blocks.append(context(texts("disaster.post.unreported")))
    if not checkin.withdrawn:
        blocks.append(section(texts("disaster.post.prompt")))
    blocks.append(context(texts("disaster.post.tally", **{status: tally.counts.get(status, 0) for status in STATUSES})))
    if not checkin.withdrawn:
        value = row_value(checkin.id)
        blocks.append(
            actions(
                *(button(status_label(texts, s), f"{ANSWER_ACTION}.{s}", value) for s in STATUSES),
                button(texts("disaster.post.view"), VIEW_ACTION, value),
                block_id=f"disaster_{checkin.id}",
            )
        )
    if info.get("title"):
        blocks.append(context(texts("disaster.post.source", title=info["title"])))
    return message(text, blocks)


def answers_view(texts: Texts, checkin: DisasterCheckin, answers: list[tuple[str, str]]) -> dict[str, Any]:
    """Who pressed what, for organisers and the prefecture's leads only (a modal nobody else can open)."""
    blocks: list[Block] = [section(texts("disaster.post.header_manual", prefecture=prefecture_name(checkin.pref_code)))]
    if not answers:
        blocks.append(section(texts("disaster.answers.none")))
    for status in reversed(STATUSES):  # those who need help first
        people = [user for user, said in answers if said == status]
        if people:
            blocks.append(
                section(texts("disaster.answers.heading", status=status_label(texts, status), count=len(people)))
            )
            mentions = [f"<@{esc(user)}>" for user in people]
            # Ten to a line, packed into as many sections as they need: hundreds of answers stay readable.
            blocks.extend(sections(safe(" ".join(mentions[i : i + 10])) for i in range(0, len(mentions), 10)))
    return {
        "type": "modal",
        "callback_id": ANSWERS_VIEW,
        "title": plain(texts("disaster.answers.title"), 24),
        "close": plain(texts("disaster.answers.close"), 24),
        "blocks": blocks[:100],
    }


def help_dm(texts: Texts, checkin: DisasterCheckin, user_id: str) -> dict[str, Any]:
    """To an organiser or lead: a member answered 支援が必要 (sent once per member and check-in)."""
    first = texts("disaster.help_dm.text", user=safe(esc(user_id)), prefecture=prefecture_name(checkin.pref_code))
    where = texts("disaster.help_dm.where", channel=safe(esc(checkin.channel_id)))
    return message(first, [section(first), context(where)])
