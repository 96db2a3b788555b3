"""Block Kit for /announce: the form, the preview with Send/Cancel, the message itself, status and report."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks.common import (
    Mrkdwn,
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
    safe,
    section,
)
from bot.texts import Texts
from bot.texts.markup import split
from storage.data import prefectures
from storage.models import Announcement

# One definition for blocks and handlers.
CALLBACK = "announce_form"
SEND = "announce_send"
SEND_AGAIN = "announce_send_again"  # the second confirmation of a duplicate
CANCEL = "announce_cancel"
METADATA_TYPE = "yakuba_announcement"
SECTION_LIMIT = 3000
KIND_ORDER = ("all", "prefs", "channels", "broadcast", "members")
# With "allow @channel": these (escaped) tokens become live again, and typed @channel/@here/@everyone ping.
_LIVE = re.compile(r"&lt;(!channel|!here|!everyone|@[UW][A-Z0-9]{2,31})&gt;")
_TYPED = re.compile(r"(?<![\w<!])@(channel|here|everyone)\b")


def render_text(text: str, *, allow_mentions: bool) -> Mrkdwn:
    """The announcement as mrkdwn: always escaped; with allow_mentions only the mention tokens come back."""
    body = esc(text)
    if allow_mentions:
        body = _TYPED.sub(r"<!\1>", _LIVE.sub(r"<\1>", body))
    return safe(body)


def announcement_message(texts: Texts, text: str, *, allow_mentions: bool) -> dict[str, Any]:
    """Exactly what every target receives (the preview shows the same blocks)."""
    body = render_text(text, allow_mentions=allow_mentions)
    blocks = [section(chunk) for chunk in split(body, SECTION_LIMIT)]
    blocks.append(context(texts("announcements.message.footer")))
    return message(body, blocks, unfurl_links=False)


def targets_label(texts: Texts, targets: dict[str, Any]) -> str:
    kind = targets.get("kind")
    if kind == "prefs":
        names = {p.code: p.name for p in prefectures()}
        return texts("announcements.targets.prefs", names="、".join(names.get(c, c) for c in targets.get("codes", [])))
    if kind == "channels":
        return texts(
            "announcements.targets.channels", channels=safe(" ".join(f"<#{esc(c)}>" for c in targets["channels"]))
        )
    return texts(f"announcements.targets.{kind}")


def when_label(texts: Texts, send_at: datetime | None, tz: ZoneInfo) -> str:
    if send_at is None:
        return texts("announcements.when.now")
    return texts("announcements.when.at", at=send_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"))


def preview_message(texts: Texts, draft: Announcement, *, tz: ZoneInfo, count: int) -> dict[str, Any]:
    unit = "people" if draft.targets.get("kind") == "members" else "channels"
    title = texts(f"announcements.preview.title_{unit}", count=count)
    sent = announcement_message(texts, draft.text, allow_mentions=draft.allow_mentions)
    mentions = texts(f"announcements.preview.mentions_{'on' if draft.allow_mentions else 'off'}")
    details = " · ".join((targets_label(texts, draft.targets), when_label(texts, draft.send_at, tz), mentions))
    blocks = [
        section(f"*{title}*"),
        context(details),
        divider(),
        *sent["blocks"],
        divider(),
        actions(
            button(texts("announcements.preview.send"), SEND, row_value(draft.id), "primary"),
            button(texts("announcements.preview.cancel"), CANCEL, row_value(draft.id), "danger"),
        ),
    ]
    return message(title, blocks)


def duplicate_message(texts: Texts, draft: Announcement, *, minutes: int) -> dict[str, Any]:
    text = texts("announcements.duplicate.ask", minutes=minutes)
    return message(
        text,
        [
            section(text),
            actions(
                button(texts("announcements.duplicate.send"), SEND_AGAIN, row_value(draft.id), "primary"),
                button(texts("announcements.preview.cancel"), CANCEL, row_value(draft.id), "danger"),
            ),
        ],
    )


def _progress(texts: Texts, counts: Counter, total: int) -> str:
    return texts(
        "announcements.status.progress",
        sent=counts.get("sent", 0),
        total=total,
        failed=counts.get("failed", 0),
        pending=counts.get("pending", 0) + counts.get("sending", 0),
    )


def status_message(texts: Texts, rows: list[tuple[Announcement, Counter]], *, tz: ZoneInfo) -> dict[str, Any]:
    title = texts("announcements.status.title")
    if not rows:
        return message(title, [header(title), section(texts("announcements.status.none"))])
    blocks: list[dict[str, Any]] = [header(title)]
    for row, counts in rows:
        state = texts(f"announcements.state.{row.status}")
        line = texts(
            "announcements.status.line",
            id=row.id,
            state=state,
            targets=targets_label(texts, row.targets),
            when=when_label(texts, row.send_at or row.confirmed_at, tz),
            by=safe(f"<@{esc(row.created_by)}>"),
        )
        excerpt = esc(clip(row.text.replace("\n", " "), 80))
        block = section(f"{line}\n{_progress(texts, counts, row.total)}\n> {excerpt}")
        if row.status in ("scheduled", "sending"):
            block["accessory"] = button(texts("announcements.preview.cancel"), CANCEL, row_value(row.id), "danger")
        blocks.append(block)
    return message(title, blocks[:50])


def _reason(texts: Texts, code: str) -> Mrkdwn:
    key = f"announcements.reasons.{code}"
    return safe(f"{texts(key)} ({esc(code)})") if texts.has(key) else esc(code)


def report_message(
    texts: Texts, row: Announcement, counts: Counter, failed: list[tuple[str, str]], *, seconds: float
) -> dict[str, Any]:
    title = texts("announcements.report.title", id=row.id)
    summary = texts(
        "announcements.report.summary",
        sent=counts.get("sent", 0),
        failed=len(failed),
        total=row.total,
        seconds=f"{seconds:.1f}",
    )
    blocks = [header(title), section(summary), context(targets_label(texts, row.targets))]
    if failed:
        reasons = Counter(error for _, error in failed)
        lines = [
            texts("announcements.report.reason", reason=_reason(texts, reason), count=count)
            for reason, count in reasons.most_common()
        ]
        targets = " ".join(f"<@{esc(t)}>" if t[:1] in "UW" else f"<#{esc(t)}>" for t, _ in failed[:40])
        blocks.append(section("\n".join(lines) + f"\n{targets}"))
    return message(f"{title} {summary}", blocks)


def form_view(texts: Texts, *, origin_channel: str, lead_only: str | None = None) -> dict[str, Any]:
    """The /announce modal; `lead_only` (a prefecture code) narrows the choices for a prefecture lead."""

    def option(label: str, value: str) -> dict[str, Any]:
        return {"text": plain(label), "value": value}

    kinds = ["prefs"] if lead_only else list(KIND_ORDER)
    pref_options = [option(p.name, p.code) for p in prefectures() if not lead_only or p.code == lead_only]
    kind_element: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": "kind",
        "options": [option(texts(f"announcements.form.kind_{k}"), k) for k in kinds],
    }
    if lead_only:
        kind_element["initial_option"] = kind_element["options"][0]
    blocks = [
        {
            "type": "input",
            "block_id": "message",
            "label": plain(texts("announcements.form.message")),
            "element": {"type": "plain_text_input", "action_id": "text", "multiline": True, "max_length": 3000},
        },
        {
            "type": "input",
            "block_id": "kind",
            "label": plain(texts("announcements.form.targets")),
            "element": kind_element,
        },
        {
            "type": "input",
            "block_id": "prefs",
            "optional": True,
            "label": plain(texts("announcements.form.prefs")),
            "element": {
                "type": "multi_static_select",
                "action_id": "codes",
                "options": pref_options,
                "placeholder": plain(texts("announcements.form.prefs_placeholder")),
            },
        },
    ]
    if not lead_only:
        blocks.append(
            {
                "type": "input",
                "block_id": "channels",
                "optional": True,
                "label": plain(texts("announcements.form.channels")),
                "element": {
                    "type": "multi_conversations_select",
                    "action_id": "ids",
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                },
            }
        )
    blocks += [
        {
            "type": "input",
            "block_id": "when",
            "label": plain(texts("announcements.form.when")),
            "element": {
                "type": "radio_buttons",
                "action_id": "mode",
                "initial_option": option(texts("announcements.form.now"), "now"),
                "options": [
                    option(texts("announcements.form.now"), "now"),
                    option(texts("announcements.form.later"), "later"),
                ],
            },
        },
        {
            "type": "input",
            "block_id": "date",
            "optional": True,
            "label": plain(texts("announcements.form.date")),
            "element": {"type": "datepicker", "action_id": "date"},
        },
        {
            "type": "input",
            "block_id": "time",
            "optional": True,
            "label": plain(texts("announcements.form.time")),
            "element": {"type": "timepicker", "action_id": "time"},
        },
        {
            "type": "input",
            "block_id": "options",
            "optional": True,
            "label": plain(texts("announcements.form.options")),
            "element": {
                "type": "checkboxes",
                "action_id": "flags",
                "options": [option(texts("announcements.form.allow_mentions"), "allow_mentions")],
            },
        },
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": origin_channel,
        "title": plain(texts("announcements.form.title")),
        "submit": plain(texts("announcements.form.submit")),
        "close": plain(texts("announcements.form.close")),
        "blocks": blocks,
    }
