"""Archive messages and the organisers' archive modal: listing, search results, the 庁内放送 notice."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.blocks.common import Block, clip, context, divider, message, plain, section
from bot.blocks.faq import date_text, echo, link, row_id
from bot.texts import Texts
from storage.models import Archive

CALLBACK = "archives.save"
ACTION = "value"
ANNOUNCE = "announce"  # the checkbox option's value
BLOCKS = (
    "series",
    "number",
    "held_on",
    "theme",
    "recording_url",
    "faq_doc_url",
    "attendance",
    "governments",
    "announce",
)
_OPTIONAL = {"held_on", "theme", "recording_url", "faq_doc_url", "attendance", "governments", "announce"}
_NUMBERS = ("number", "attendance", "governments")
_LIMITS = {"series": 200, "theme": 1000, "recording_url": 500, "faq_doc_url": 500}
_URL = re.compile(r"^https?://[^\s<>|]+$")


def archive_text(texts: Texts, a: Archive) -> str:
    """Series and number, date, theme, links, attendance and governments (user text escaped)."""
    title = texts("archives.item.title", series=a.series, number=a.number)
    if a.held_on:
        title += f"  {date_text(texts, a.held_on, 'archives.item.held_on')}"
    lines = [title]
    if a.theme:
        lines.append(texts("archives.item.theme", theme=clip(a.theme, 500)))
    urls = ((a.recording_url, "archives.item.recording"), (a.faq_doc_url, "archives.item.faq_doc"))
    links = [link(url, texts(key)) for url, key in urls if url]
    numbers = ((a.attendance, "archives.item.attendance"), (a.governments, "archives.item.governments"))
    counts = [texts(key, count=f"{n:,}") for n, key in numbers if n]
    if links or counts:
        lines.append(" · ".join(links + counts))
    return "\n".join(lines)


def list_message(texts: Texts, archives: list[Archive], *, query: str | None = None) -> dict[str, Any]:
    if query is None:
        head, fallback = texts("archives.recent.header"), texts("archives.recent.fallback")
    else:
        head = texts("archives.search.header", query=echo(query), count=len(archives))
        fallback = texts("archives.search.fallback", query=echo(query))
    if not archives:
        empty = texts("archives.recent.empty") if query is None else texts("archives.search.none", query=echo(query))
        return message(empty, [section(empty), context(texts("archives.recent.hint"))])
    blocks: list[Block] = [section(head)]
    for a in archives[:10]:
        blocks += [divider(), section(archive_text(texts, a))]
    blocks.append(context(texts("archives.recent.hint")))
    return message(fallback, blocks, unfurl_links=False)


def announce_message(texts: Texts, a: Archive) -> dict[str, Any]:
    """The 庁内放送 notice of a new archive."""
    blocks = [
        section(texts("archives.announce.header", series=a.series, number=a.number)),
        section(archive_text(texts, a)),
        context(texts("archives.announce.footer")),
    ]
    return message(texts("archives.announce.fallback", series=a.series, number=a.number), blocks, unfurl_links=False)


def _element(texts: Texts, block: str) -> dict[str, Any]:
    if block == "held_on":
        return {"type": "datepicker"}
    if block == "announce":
        option = {"text": plain(texts("archives.form.announce_option")), "value": ANNOUNCE}
        return {"type": "checkboxes", "options": [option]}
    if block in _NUMBERS:
        return {"type": "number_input", "is_decimal_allowed": False, "min_value": "0"}
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": block == "theme"}
    if block in _LIMITS:
        element["max_length"] = _LIMITS[block]
    return element


def archive_modal(texts: Texts) -> dict[str, Any]:
    blocks: list[Block] = []
    for block in BLOCKS:
        entry: Block = {
            "type": "input",
            "block_id": block,
            "label": plain(texts(f"archives.form.label.{block}")),
            "element": {**_element(texts, block), "action_id": ACTION},
            "optional": block in _OPTIONAL,
        }
        if block in ("series", "number"):
            entry["hint"] = plain(texts(f"archives.form.hint.{block}"))
        blocks.append(entry)
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "title": plain(texts("archives.form.title_add")),
        "submit": plain(texts("archives.form.submit")),
        "close": plain(texts("archives.form.close")),
        "blocks": blocks,
    }


def done_view(texts: Texts, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(texts("archives.form.done_title")),
        "close": plain(texts("archives.form.close")),
        "blocks": [section(text)],
    }


def _value(element: Any) -> Any:
    if not isinstance(element, dict):
        return None
    if "selected_options" in element:
        return [o.get("value") for o in element.get("selected_options") or [] if isinstance(o, dict)]
    if "selected_date" in element:
        return element.get("selected_date")
    return element.get("value")


def read_form(texts: Texts, values: dict[str, Any]) -> tuple[dict[str, Any], bool, dict[str, str]]:
    """(keyword arguments for storage.archives.upsert, announce?, {block_id: error})."""

    def get(block: str) -> str:
        value = _value((values.get(block) or {}).get(ACTION))
        return value.strip() if isinstance(value, str) else ""

    announce = _value((values.get("announce") or {}).get(ACTION))
    errors: dict[str, str] = {}
    if not get("series"):
        errors["series"] = texts("archives.form.error.required")
    for block, limit in _LIMITS.items():
        if len(get(block)) > limit:
            errors[block] = texts("archives.form.error.too_long", limit=limit)
    numbers: dict[str, int | None] = {}
    for block in _NUMBERS:
        raw = get(block).replace(",", "")
        numbers[block] = row_id(raw)
        if (raw and numbers[block] is None) or (block == "number" and not raw):
            errors[block] = texts("archives.form.error.not_number" if raw else "archives.form.error.required")
    for block in ("recording_url", "faq_doc_url"):
        if get(block) and block not in errors and not _URL.match(get(block)):
            errors[block] = texts("archives.form.error.bad_url")
    held_on = None
    if get("held_on"):
        try:
            held_on = date.fromisoformat(get("held_on"))
        except ValueError:
            errors["held_on"] = texts("archives.form.error.required")
    fields = {
        "series": get("series") or "",
        "number": numbers["number"],
        "held_on": held_on,
        "theme": get("theme") or None,
        "recording_url": get("recording_url") or None,
        "faq_doc_url": get("faq_doc_url") or None,
        "attendance": numbers["attendance"],
        "governments": numbers["governments"],
    }
    return fields, isinstance(announce, list) and ANNOUNCE in announce, errors
