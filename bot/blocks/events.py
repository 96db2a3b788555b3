"""Events in Block Kit: the card (list, channel post), the DMs, the survey, reports, and the organisers' modal.

A card never carries the join link: only the DMs to a member with a seat do (confirm_dm, promoted_dm,
reminder_dm). The modal's state becomes the same mapping an import line is, so storage.event_io judges both.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from typing import Any

from bot.blocks.common import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    esc,
    header,
    message,
    plain,
    row_value,
    section,
)
from bot.texts import Texts
from bot.texts.markup import Mrkdwn, safe
from storage.data import prefecture
from storage.events import KINDS, Counts, is_open
from storage.models import EVENT_FIELDS, Event

JOIN = "events.join"
CANCEL = "events.cancel"
ICS = "events.ics"
MINE_ICS = "events.mine_ics"
RATE = "events.rate"  # value "<event id>:<1-5>"
MISSED = "events.missed"
TOPIC = "events.topic"  # opens the topic modal
TOPIC_CALLBACK = "events.topic_form"  # private_metadata = event id
FORM_CALLBACK = "events.form"  # private_metadata = event id ("" for a new one)
FIELD = "value"  # every input's action_id: the block_id says which field it is
FORM_FIELDS = EVENT_FIELDS
_OPTIONAL = {"capacity", "deadline", "join_url", "venue", "hosts", "description", "fee", "archive_url"}
_LONG = {"description"}


def when(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M")


def _until(start: datetime, end: datetime, tz: tzinfo) -> str:
    a, b = start.astimezone(tz), end.astimezone(tz)
    return b.strftime("%H:%M") if a.date() == b.date() else b.strftime("%Y-%m-%d %H:%M")


def kind_label(texts: Texts, kind: str) -> str:
    return texts(f"events.kinds.{kind if kind in KINDS else 'other'}")


def audience_label(texts: Texts, audience: str) -> str:
    if audience.startswith("pref:"):
        pref = prefecture(audience[5:])
        return texts("events.audience.pref", name=pref.name if pref else audience[5:])
    if audience.startswith("ka:"):
        return texts("events.audience.ka", name=audience[3:])
    return texts("events.audience.all")


def seats_line(texts: Texts, event: Event, counts: Counts) -> str:
    if event.capacity is None:
        return texts("events.card.unlimited", seats=counts.seats)
    left = counts.left(event.capacity)
    if left:
        return texts("events.card.seats_left", left=left, capacity=event.capacity)
    if counts.waiting:
        return texts("events.card.full", capacity=event.capacity, waiting=counts.waiting)
    return texts("events.card.full_none", capacity=event.capacity)


def card(
    texts: Texts, event: Event, counts: Counts, *, tz: tzinfo, now: datetime, yours: str | None = None
) -> list[Block]:
    """One event: what, when, where, seats, and its buttons. Never the join link."""
    lines = [
        texts(
            "events.card.title",
            title=event.title,
            kind=kind_label(texts, event.kind),
            audience=audience_label(texts, event.audience),
        ),
        texts(
            "events.card.when",
            start=when(event.starts_at, tz),
            end=_until(event.starts_at, event.ends_at, tz),
        ),
    ]
    if event.venue:
        lines.append(texts("events.card.venue", venue=event.venue))
    if event.join_url:
        lines.append(texts("events.card.online"))
    if event.fee:
        lines.append(texts("events.card.fee", fee=event.fee))
    if event.hosts:
        lines.append(texts("events.card.hosts", people=safe(", ".join(f"<@{h}>" for h in event.hosts))))
    if event.description:
        lines.append(esc(clip(event.description, 1500)))
    blocks: list[Block] = [section("\n".join(lines))]
    open_now = is_open(event, now)
    status = [seats_line(texts, event, counts)]
    if open_now and event.deadline:
        status.append(texts("events.card.deadline", deadline=when(event.deadline, tz)))
    if not open_now:
        status.append(texts("events.card.closed"))
    if yours in ("seat", "wait"):
        status.append(texts(f"events.card.yours_{yours}"))
    blocks.append(context(" · ".join(status)))
    value = row_value(event.id)
    buttons = []
    if open_now:
        buttons.append(button(texts("events.card.join"), JOIN, value, style="primary"))
    buttons.append(button(texts("events.card.cancel"), CANCEL, value, style="danger"))
    buttons.append(button(texts("events.card.ics"), ICS, value))
    blocks.append(actions(*buttons, block_id=f"event-{event.id}"))
    return blocks


def post_message(texts: Texts, event: Event, counts: Counts, *, tz: tzinfo, now: datetime) -> dict[str, Any]:
    """The channel post of an event (kept current by chat.update as people sign up)."""
    intro = texts("events.post.intro", kind=kind_label(texts, event.kind))
    blocks = [section(intro), *card(texts, event, counts, tz=tz, now=now)]
    return message(texts("events.post.fallback", title=event.title), blocks)


def list_message(
    texts: Texts, items: Iterable[tuple[Event, Counts, str | None]], *, tz: tzinfo, now: datetime
) -> dict[str, Any]:
    blocks: list[Block] = [header(texts("events.list.title"))]
    found = list(items)
    if not found:
        blocks.append(section(texts("events.list.empty")))
    for event, counts, yours in found[:15]:
        blocks.extend(card(texts, event, counts, tz=tz, now=now, yours=yours))
        blocks.append(divider())
    blocks.append(context(texts("events.list.footer")))
    return message(texts("events.list.fallback"), blocks)


def _details(texts: Texts, event: Event, *, link: bool) -> list[str]:
    lines = []
    if link:
        lines.append(texts("events.dm.link", url=event.join_url) if event.join_url else texts("events.dm.no_link"))
    if event.venue:
        lines.append(texts("events.dm.venue", venue=event.venue))
    return lines


def _times(event: Event, tz: tzinfo) -> dict[str, str]:
    return {"start": when(event.starts_at, tz), "end": _until(event.starts_at, event.ends_at, tz)}


def _dm(text: str, extra: list[str], buttons: list[dict] | None = None) -> dict[str, Any]:
    body = "\n".join([text, *extra])
    blocks: list[Block] = [section(body)]
    if buttons:
        blocks.append(actions(*buttons))
    return message(body, blocks)


def confirm_dm(texts: Texts, event: Event, *, tz: tzinfo) -> dict[str, Any]:
    """To a member who got a seat: the join link is here (and in reminders), nowhere else."""
    text = texts("events.dm.confirm", title=event.title, **_times(event, tz))
    ics = button(texts("events.card.ics"), ICS, row_value(event.id))
    cancel = button(texts("events.card.cancel"), CANCEL, row_value(event.id), style="danger")
    return _dm(text, _details(texts, event, link=True), [ics, cancel])


def waitlisted_dm(texts: Texts, event: Event, *, place: int) -> dict[str, Any]:
    return _dm(texts("events.dm.waitlisted", title=event.title, place=place), [])


def promoted_dm(texts: Texts, event: Event, *, tz: tzinfo) -> dict[str, Any]:
    text = texts("events.dm.promoted", title=event.title, **_times(event, tz))
    cancel = button(texts("events.card.cancel"), CANCEL, row_value(event.id), style="danger")
    return _dm(text, _details(texts, event, link=True), [cancel])


def reminder_dm(
    texts: Texts,
    event: Event,
    *,
    which: str,
    tz: tzinfo,
    minutes: int,
    host: bool = False,
    counts: Counts | None = None,
) -> dict[str, Any]:
    """`which`: day_before | soon. Hosts get the figures; members the join link."""
    counts = counts or Counts(0, 0)
    params = {"title": event.title, "start": when(event.starts_at, tz), "minutes": minutes}
    if host:
        text = texts(f"events.reminder.host_{which}", seats=counts.seats, waiting=counts.waiting, **params)
    else:
        text = texts(f"events.reminder.{which}", **params)
    return _dm(text, _details(texts, event, link=True))


def wait_closed_dm(texts: Texts, event: Event) -> dict[str, Any]:
    return _dm(texts("events.reminder.wait_closed", title=event.title), [])


def survey_dm(texts: Texts, event: Event) -> dict[str, Any]:
    value = row_value(event.id)
    rates = [button(str(n), RATE, f"{value}:{n}") for n in range(1, 6)]
    blocks: list[Block] = [
        section(texts("events.survey.ask", title=event.title)),
        actions(*rates, button(texts("events.survey.missed"), MISSED, value), block_id=f"survey-{event.id}"),
        section(texts("events.survey.topic_ask")),
        actions(button(texts("events.survey.topic"), TOPIC, value)),
    ]
    return message(texts("events.survey.fallback", title=event.title), blocks)


def topic_modal(texts: Texts, event: Event) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": TOPIC_CALLBACK,
        "private_metadata": row_value(event.id),
        "title": plain(texts("events.survey.modal_title"), 24),
        "submit": plain(texts("events.survey.modal_submit"), 24),
        "blocks": [
            section(f"*{esc(event.title)}*"),
            {
                "type": "input",
                "block_id": "topic",
                "label": plain(texts("events.survey.modal_topic")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": FIELD,
                    "multiline": True,
                    "max_length": 500,
                    "placeholder": plain(texts("events.survey.modal_topic_hint")),
                },
            },
            {
                "type": "input",
                "block_id": "share",
                "optional": True,
                "label": plain(texts("events.survey.modal_share")),
                "element": {
                    "type": "checkboxes",
                    "action_id": FIELD,
                    "options": [{"text": plain(texts("events.survey.modal_share_option")), "value": "yes"}],
                },
            },
        ],
    }


def archive_dm(texts: Texts, event: Event) -> dict[str, Any]:
    return _dm(texts("events.archive.dm", title=event.title, url=event.archive_url or ""), [])


def results_message(
    texts: Texts,
    event: Event,
    *,
    scores: list[int],
    seats: int,
    missed: int,
    topics: list[tuple[str, str | None]],
) -> dict[str, Any]:
    """The survey for organisers: a topic carries its author's name only when they agreed (`name` not None)."""
    lines = [texts("events.results.title", title=event.title)]
    if scores:
        average = f"{sum(scores) / len(scores):.1f}"
        lines.append(texts("events.results.summary", answers=len(scores), average=average, seats=seats, missed=missed))
    else:
        lines.append(texts("events.results.no_scores"))
    lines.append(texts("events.results.topics"))
    for topic, name in topics[:50]:
        who = texts("events.results.named", name=name) if name else texts("events.results.anonymous")
        lines.append(texts("events.results.topic_line", topic=topic[:300], who=Mrkdwn(who)))
    if not topics:
        lines.append(texts("events.results.no_topics"))
    text = "\n".join(lines)
    return message(text, [section(text)])


def topics_report(texts: Texts, *, month: str, groups: list[tuple[str, int]]) -> dict[str, Any]:
    if not groups:
        text = texts("events.report.empty", month=month)
        return message(text, [section(text)])
    lines = [texts("events.report.title", month=month)]
    lines += [texts("events.report.line", topic=topic[:200], count=count) for topic, count in groups[:40]]
    text = "\n".join(lines)
    return message(texts("events.report.fallback", month=month), [section(text)])


def mine_message(texts: Texts, items: list[tuple[Event, str, int | None]], *, tz: tzinfo) -> dict[str, Any]:
    blocks: list[Block] = [header(texts("events.mine.title"))]
    if not items:
        blocks.append(section(texts("events.mine.empty")))
        return message(texts("events.mine.title"), blocks)
    lines = []
    for event, status, place in items:
        state = texts("events.mine.seat") if status == "seat" else texts("events.mine.wait", place=place or "?")
        lines.append(f"• *{esc(event.title)}* {when(event.starts_at, tz)} — {state}")
    blocks.append(section("\n".join(lines)))
    blocks.append(actions(button(texts("events.mine.ics_button"), MINE_ICS, "all")))
    return message(texts("events.mine.title"), blocks)


def newcomer_blocks(texts: Texts, event: Event, *, tz: tzinfo) -> list[Block]:
    """The next 説明会, for the welcome and the approval DMs: one line and its sign-up button."""
    line = texts("events.newcomer.next", title=event.title, start=when(event.starts_at, tz))
    return [section(line), actions(button(texts("events.card.join"), JOIN, row_value(event.id), style="primary"))]


# --- the organisers' modal -----------------------------------------------------------------------


def _initial(event: Event | None, name: str, tz: tzinfo) -> str:
    if event is None:
        return ""
    value = getattr(event, name)
    if isinstance(value, datetime):
        return when(value, tz)
    if value is None:
        return ""
    return str(value)


def event_modal(texts: Texts, event: Event | None, *, tz: tzinfo) -> dict[str, Any]:
    blocks: list[Block] = []
    for name in FORM_FIELDS:
        if name == "key" and event is not None:
            continue  # the key is what re-imports find it by: it does not change
        if name == "archive_url" and event is None:
            continue
        element: dict[str, Any]
        if name == "kind":
            options = [{"text": plain(kind_label(texts, k)), "value": k} for k in KINDS]
            element = {"type": "static_select", "action_id": FIELD, "options": options}
            chosen = event.kind if event is not None else "setsumeikai"
            element["initial_option"] = next(o for o in options if o["value"] == chosen)
        elif name == "hosts":
            element = {"type": "multi_users_select", "action_id": FIELD}
            if event is not None and event.hosts:
                element["initial_users"] = list(event.hosts)
        else:
            element = {"type": "plain_text_input", "action_id": FIELD, "multiline": name in _LONG}
            initial = _initial(event, name, tz) if name != "audience" or event else "all"
            if initial:
                element["initial_value"] = initial[:3000]
        block: Block = {
            "type": "input",
            "block_id": name,
            "label": plain(texts(f"events.form.{name}")),
            "element": element,
        }
        if name in _OPTIONAL:
            block["optional"] = True
        blocks.append(block)
    blocks.append(
        {
            "type": "input",
            "block_id": "publish",
            "optional": True,
            "label": plain(texts("events.form.publish")),
            "element": {
                "type": "checkboxes",
                "action_id": FIELD,
                "options": [{"text": plain(texts("events.form.publish_option")), "value": "yes"}],
            },
        }
    )
    title = "events.form.edit_title" if event is not None else "events.form.add_title"
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "private_metadata": row_value(event.id) if event is not None else "",
        "title": plain(texts(title), 24),
        "submit": plain(texts("events.form.submit"), 24),
        "blocks": blocks,
    }


def entry_from_state(values: dict[str, Any], event: Event | None) -> tuple[dict[str, Any], bool]:
    """(an import-line mapping, publish?) from the modal's state; an edit keeps the key and recurrence."""
    entry: dict[str, Any] = {}
    for name in FORM_FIELDS:
        state = (values.get(name) or {}).get(FIELD) or {}
        if "selected_option" in state:
            entry[name] = (state.get("selected_option") or {}).get("value")
        elif "selected_users" in state:
            entry[name] = list(state.get("selected_users") or [])
        elif "value" in state:
            entry[name] = state.get("value") or ""
    if event is not None:
        entry["key"] = event.key
    publish = bool(((values.get("publish") or {}).get(FIELD) or {}).get("selected_options"))
    return entry, publish


_PROBLEM_BLOCK = {
    "end_before_start": "ends_at",
    "deadline_after_start": "deadline",
    "bad_capacity": "capacity",
    "bad_audience": "audience",
    "unknown_section": "audience",
    "bad_host": "hosts",
    "bad_kind": "kind",
    "bad_key": "key",
    "duplicate": "key",
}


def form_errors(texts: Texts, problems: list[Any], view: dict[str, Any]) -> dict[str, str]:
    """Each problem under the block it is about (the title when that block is not in this form)."""
    present = {b.get("block_id") for b in view.get("blocks") or []}
    errors: dict[str, str] = {}
    for problem in problems:
        block = problem.params.get("field") or _PROBLEM_BLOCK.get(problem.key, "title")
        if block not in present:
            block = "title"
        key = problem.key if "." in problem.key else f"events.import.errors.{problem.key}"
        errors.setdefault(block, str(texts(key, **problem.params))[:150])
    return errors


def done_view(texts: Texts, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": f"{FORM_CALLBACK}.done",
        "title": plain(texts("events.form.edit_title"), 24),
        "close": plain(texts("events.form.close"), 24),
        "blocks": [section(text)],
    }
