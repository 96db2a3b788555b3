"""The organisers' FAQ modal (add, edit, answer a forwarded question): building, reading, inline errors."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.blocks.common import Block, context, plain, section
from bot.blocks.faq import row_id
from bot.texts import Texts
from bot.texts.markup import cut_inside, spans
from storage.faqs import LIMITS, VISIBILITIES
from storage.models import Faq

CALLBACK = "faq.save"  # private_metadata: "" (new), "faq:<id>" (edit) or "unanswered:<id>" (answer a question)
ACTION = "value"  # every input's action_id: the block_id says which field it is
BLOCKS = ("question", "answer", "tags", "category", "source", "source_url", "updated_on", "visibility", "aliases")
REQUIRED = {"question", "answer", "visibility"}
# The form holds what storage.faqs.LIMITS allows, the answer across inputs of Slack's 3,000 characters: an
# answer is cut at line ends into parts and saved as the parts joined by newlines, so it comes back byte for
# byte. Only an answer with a single line over 3,000 characters cannot be shown so: the form says it keeps
# that answer as it is (import and export edit it).
INPUT_MAX = 3000
ANSWER_PARTS = -(-LIMITS["answer"] // INPUT_MAX)
_HINTS = {"answer", "tags", "aliases", "source"}
_SPLIT = {"tags": re.compile(r"[,，、|\n]"), "aliases": re.compile(r"\n")}  # an alias is a sentence: 、 is in it
_URL = re.compile(r"^https?://[^\s<>|]+$")


def answer_parts(answer: str) -> list[str] | None:
    """The answer as form inputs (cut at line ends, each at most INPUT_MAX); None when a line is longer."""
    if not answer:
        return [""]
    cuts = spans(answer, INPUT_MAX)
    return None if cut_inside(answer, cuts) else [answer[s:e] for s, e in cuts]


def _part_block(n: int) -> str:
    return "answer" if n == 1 else f"answer_{n}"


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
    element["max_length"] = min(LIMITS.get(block, INPUT_MAX), INPUT_MAX)
    if value:
        element["initial_value"] = str(value)  # never clipped: storage keeps every field within the form's limits
    return element


def _input(texts: Texts, block: str, value: Any, *, label: str, optional: bool, hint: str | None) -> Block:
    entry: Block = {
        "type": "input",
        "block_id": block,
        "label": plain(label),
        "element": {**_element(texts, block, value), "action_id": ACTION},
        "optional": optional,
    }
    if hint:
        entry["hint"] = plain(hint)
    return entry


def _answer_blocks(texts: Texts, answer: str) -> list[Block]:
    """The answer across as many inputs as it needs, plus one empty input to write on, up to the limit."""
    parts = answer_parts(answer)
    if parts is None:
        return [section(texts("faq.form.answer_locked"))]
    shown = [*parts, ""] if len(parts) < ANSWER_PARTS else parts
    blocks = [
        _input(
            texts,
            _part_block(n),
            part,
            label=texts("faq.form.label.answer") if n == 1 else texts("faq.form.label.answer_more", n=n),
            optional=n > 1,
            hint=texts("faq.form.hint.answer")
            if n == 1
            else texts("faq.form.hint.answer_more", limit=f"{LIMITS['answer']:,}"),
        )
        for n, part in enumerate(shown, start=1)
    ]
    if len(parts) > 1:
        blocks.append(context(texts("faq.form.answer_parts", count=len(parts))))
    return blocks


def faq_modal(
    texts: Texts, faq: Faq | None = None, *, question: str | None = None, unanswered_id: int | None = None
) -> dict[str, Any]:
    """Add (faq None; `question` pre-fills from a forwarded question) or edit an entry."""
    initial = _initial(faq, question)
    blocks: list[Block] = []
    for block in BLOCKS:
        if block == "answer":
            blocks += _answer_blocks(texts, initial.get("answer") or "")
            continue
        blocks.append(
            _input(
                texts,
                block,
                initial.get(block),
                label=texts(f"faq.form.label.{block}"),
                optional=block not in REQUIRED,
                hint=texts(f"faq.form.hint.{block}") if block in _HINTS else None,
            )
        )
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


def _list(block: str, text: str | None) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in _SPLIT[block].split(text or "") if p.strip()))


def _answer(values: dict[str, Any]) -> list[tuple[str, str]] | None:
    """(block, text as typed) of each answer input present; None when the form had none (a locked answer)."""
    found = []
    for n in range(1, ANSWER_PARTS + 1):
        if _part_block(n) in values:
            value = _value((values.get(_part_block(n)) or {}).get(ACTION))
            found.append((_part_block(n), value if isinstance(value, str) else ""))
    return found or None


def read_form(texts: Texts, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """(keyword arguments for storage.faqs, {block_id: error}) from a submitted modal's state."""

    def get(block: str) -> str:
        value = _value((values.get(block) or {}).get(ACTION))
        return value.strip() if isinstance(value, str) else ""

    errors: dict[str, str] = {}
    if not get("question"):
        errors["question"] = texts("faq.form.error.required")
    for block, limit in LIMITS.items():
        if block != "answer" and len(get(block)) > limit:
            errors[block] = texts("faq.form.error.too_long", limit=limit)
    # The parts are kept as typed (never stripped one by one): joined, they are the answer byte for byte.
    parts = _answer(values)
    answer = None if parts is None else "\n".join(text for _, text in parts if text.strip())
    for block, text in parts or []:
        if len(text) > INPUT_MAX:
            errors[block] = texts("faq.form.error.too_long", limit=INPUT_MAX)
    if answer is not None and not answer.strip():
        errors["answer"] = texts("faq.form.error.required")
    elif answer is not None and len(answer.strip()) > LIMITS["answer"]:
        errors["answer"] = texts("faq.form.error.too_long_total", limit=f"{LIMITS['answer']:,}")
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
        "answer": answer,  # None: the form could not show it, keep the stored one
        "tags": _list("tags", get("tags")),
        "category": get("category") or None,
        "source": get("source") or None,
        "source_url": url or None,
        "updated_on": updated_on,
        "visibility": visibility,
        "aliases": _list("aliases", get("aliases")),
    }
    return fields, errors
