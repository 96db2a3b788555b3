"""The organisers' FAQ modal (add, edit, answer a forwarded question): building, reading, inline errors."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.blocks.common import Block, clip, plain, section
from bot.blocks.faq import row_id
from bot.texts import Texts
from storage.faqs import VISIBILITIES
from storage.models import Faq

CALLBACK = "faq.save"  # private_metadata: "" (new), "faq:<id>" (edit) or "unanswered:<id>" (answer a question)
ACTION = "value"  # every input's action_id: the block_id says which field it is
BLOCKS = ("question", "answer", "tags", "category", "source", "source_url", "updated_on", "visibility", "aliases")
REQUIRED = {"question", "answer", "visibility"}
LIMITS = {"question": 500, "answer": 3000, "category": 100, "source": 200, "source_url": 500}
_HINTS = {"answer", "tags", "aliases", "source"}
_SPLIT = re.compile(r"[,，、|\n]")
_URL = re.compile(r"^https?://[^\s<>|]+$")


def _option(texts: Texts, value: str) -> dict[str, Any]:
    return {"text": plain(texts(f"faq.form.visibility.{value}")), "value": value}


def _initial(faq: Faq | None, question: str | None) -> dict[str, Any]:
    if faq is None:
        return {"question": question or "", "visibility": "public"}
    return {
        "question": faq.question,
        "answer": faq.answer,
        "tags": ", ".join(faq.tags or []),
        "category": faq.category,
        "source": faq.source,
        "source_url": faq.source_url,
        "updated_on": faq.updated_on,
        "visibility": faq.visibility,
        "aliases": "\n".join(faq.aliases or []),
    }


def _element(texts: Texts, block: str, value: Any) -> dict[str, Any]:
    if block == "visibility":
        element: dict[str, Any] = {"type": "static_select", "options": [_option(texts, v) for v in VISIBILITIES]}
        if value in VISIBILITIES:
            element["initial_option"] = _option(texts, value)
        return element
    if block == "updated_on":
        element = {"type": "datepicker"}
        if isinstance(value, date):
            element["initial_date"] = value.isoformat()
        return element
    element = {"type": "plain_text_input", "multiline": block in ("answer", "aliases")}
    if block in LIMITS:
        element["max_length"] = LIMITS[block]
    if value:
        element["initial_value"] = clip(str(value), LIMITS.get(block, 3000))
    return element


def faq_modal(
    texts: Texts, faq: Faq | None = None, *, question: str | None = None, unanswered_id: int | None = None
) -> dict[str, Any]:
    """Add (faq None; `question` pre-fills from a forwarded question) or edit an entry."""
    initial = _initial(faq, question)
    blocks: list[Block] = []
    for block in BLOCKS:
        entry: Block = {
            "type": "input",
            "block_id": block,
            "label": plain(texts(f"faq.form.label.{block}")),
            "element": {**_element(texts, block, initial.get(block)), "action_id": ACTION},
            "optional": block not in REQUIRED,
        }
        if block in _HINTS:
            entry["hint"] = plain(texts(f"faq.form.hint.{block}"))
        blocks.append(entry)
    meta = f"faq:{faq.id}" if faq else (f"unanswered:{unanswered_id}" if unanswered_id else "")
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": meta,
        "title": plain(texts("faq.form.title_edit" if faq else "faq.form.title_add")),
        "submit": plain(texts("faq.form.submit")),
        "close": plain(texts("faq.form.close")),
        "blocks": blocks,
    }


def done_view(texts: Texts, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(texts("faq.form.done_title")),
        "close": plain(texts("faq.form.close")),
        "blocks": [section(text)],
    }


def parse_meta(meta: str) -> tuple[str, int | None]:
    """("faq" | "unanswered" | "", id) from private_metadata."""
    kind, _, number = (meta or "").partition(":")
    if kind in ("faq", "unanswered") and row_id(number) is not None:
        return kind, row_id(number)
    return "", None


def _value(element: Any) -> Any:
    if not isinstance(element, dict):
        return None
    if "selected_date" in element:
        return element.get("selected_date")
    if "value" in element:
        return element.get("value")
    option = element.get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def _list(text: str | None) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in _SPLIT.split(text or "") if p.strip()))


def read_form(texts: Texts, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(keyword arguments for storage.faqs, {block_id: error}) from a submitted modal's state."""

    def get(block: str) -> str:
        value = _value((values.get(block) or {}).get(ACTION))
        return value.strip() if isinstance(value, str) else ""

    errors: dict[str, str] = {}
    for block in REQUIRED - {"visibility"}:
        if not get(block):
            errors[block] = texts("faq.form.error.required")
    for block, limit in LIMITS.items():
        if len(get(block)) > limit:
            errors[block] = texts("faq.form.error.too_long", limit=limit)
    url = get("source_url")
    if url and "source_url" not in errors and not _URL.match(url):
        errors["source_url"] = texts("faq.form.error.bad_url")
    visibility = get("visibility") or "public"
    if visibility not in VISIBILITIES:
        errors["visibility"] = texts("faq.form.error.bad_visibility")
    updated_on = None
    if get("updated_on"):
        try:
            updated_on = date.fromisoformat(get("updated_on"))
        except ValueError:
            errors["updated_on"] = texts("faq.form.error.required")
    fields = {
        "question": get("question"),
        "answer": get("answer"),
        "tags": _list(get("tags")),
        "category": get("category") or None,
        "source": get("source") or None,
        "source_url": url or None,
        "updated_on": updated_on,
        "visibility": visibility,
        "aliases": _list(get("aliases")),
    }
    return fields, errors
