"""The organisers' programme modal: building it, reading its state into an import-file entry, and errors.

The modal's state becomes the same mapping a YAML entry is (see storage/data/programs.example.yaml), so
storage.program_checks judges both alike; each Problem is then shown under the block it is about.
"""

from __future__ import annotations

from typing import Any

from bot.blocks.common import Block, clip, plain, row_value, section
from bot.texts import Texts
from storage.program_checks import Problem
from storage.programs import StoredProgram
from storage.recurrence import KINDS, format_time

CALLBACK = "programs.save"  # view callback_id; private_metadata = programme id ("" for a new one)
ACTION = "value"  # every input's action_id: the block_id says which field it is
NTH = ("1", "2", "3", "4", "5", "-1")
HOLIDAYS = ("keep", "skip")
BLOCKS = (
    "title",
    "name",
    "description",
    "personalities",
    "kind",
    "weekdays",
    "date",
    "nth",
    "start",
    "duration",
    "holidays",
    "start_date",
    "end_date",
    "channel",
    "stream_url",
    "archive_url",
)
_OPTIONAL = {
    "name",
    "description",
    "personalities",
    "weekdays",
    "date",
    "nth",
    "start_date",
    "end_date",
    "channel",
    "stream_url",
    "archive_url",
}
_HINTS = {"name", "weekdays", "date", "nth", "channel"}
# Which block a problem belongs under: by the field it names, else by its kind.
_FIELD_BLOCK = {
    "start_time": "start",
    "duration_min": "duration",
    "recurrence": "kind",
    "kind": "kind",
    "weekday": "weekdays",
    "anchor": "date",
}
_KEY_BLOCK = {
    "bad_time": "start",
    "bad_duration": "duration",
    "bad_weekday": "weekdays",
    "missing_anchor": "date",
    "anchor_weekday": "date",
    "bad_nth": "nth",
    "unknown_kind": "kind",
    "bad_recurrence": "kind",
    "bad_holidays": "holidays",
    "date_order": "end_date",
    "bad_user": "personalities",
    "unknown_user": "personalities",
    "bad_channel": "channel",
    "bad_name": "name",
}


def _option(texts: Texts, group: str, value: str) -> dict[str, Any]:
    return {"text": plain(texts(f"programs.form.{group}.{value}")), "value": value}


def _element(texts: Texts, block: str, program: StoredProgram | None) -> dict[str, Any]:
    rec = program.recurrence if program else None
    if block == "personalities":
        element: dict[str, Any] = {"type": "multi_users_select"}
        if program and program.personalities:
            element["initial_users"] = list(program.personalities)
        return element
    if block in ("kind", "nth", "holidays"):
        group, values = {"kind": ("kind", KINDS), "nth": ("nth", NTH), "holidays": ("holidays", HOLIDAYS)}[block]
        element = {"type": "static_select", "options": [_option(texts, group, v) for v in values]}
        current = {
            "kind": rec.kind if rec else None,
            "nth": str(rec.nth) if rec and rec.nth else None,
            "holidays": rec.holidays if rec else "keep",
        }[block]
        if current:
            element["initial_option"] = _option(texts, group, current)
        return element
    if block in ("date", "start_date", "end_date"):
        element = {"type": "datepicker"}
        value = {
            "date": rec and (rec.anchor or rec.on),
            "start_date": rec and rec.start_date,
            "end_date": rec and rec.end_date,
        }[block]
        if value:
            element["initial_date"] = value.isoformat()
        return element
    if block == "start":
        element = {"type": "timepicker"}
        if program:
            element["initial_time"] = format_time(program.start_time)
        return element
    if block == "duration":
        element = {"type": "number_input", "is_decimal_allowed": False, "min_value": "1", "max_value": "1440"}
        if program:
            element["initial_value"] = str(program.duration_min)
        return element
    if block == "channel":
        element = {"type": "conversations_select", "filter": {"include": ["public", "private"]}}
        if program and program.channel:
            element["initial_conversation"] = program.channel
        return element
    element = {"type": "plain_text_input", "multiline": block == "description"}
    initial = _initial_text(block, program)
    if initial:
        element["initial_value"] = initial
    return element


def _initial_text(block: str, program: StoredProgram | None) -> str | None:
    if program is None:
        return None
    if block == "weekdays":
        data = program.recurrence.to_dict()
        days = data.get("weekdays") or ([data["weekday"]] if "weekday" in data else [])
        return ",".join(days) or None
    return getattr(program, block, None) or None


def program_modal(texts: Texts, program: StoredProgram | None = None) -> dict[str, Any]:
    """Add (program None) or edit; on edit the name is kept (imports and subscriptions refer to it)."""
    blocks: list[Block] = []
    for block in BLOCKS:
        if block == "name" and program is not None:
            continue
        entry: Block = {
            "type": "input",
            "block_id": block,
            "label": plain(texts(f"programs.form.label.{block}")),
            "element": {**_element(texts, block, program), "action_id": ACTION},
            "optional": block in _OPTIONAL,
        }
        if block in _HINTS:
            entry["hint"] = plain(texts(f"programs.form.hint.{block}"))
        blocks.append(entry)
    return {
        "type": "modal",
        "callback_id": CALLBACK,
        "private_metadata": row_value(program.id) if program else "",
        "title": plain(texts("programs.form.title_edit" if program else "programs.form.title_add")),
        "submit": plain(texts("programs.form.submit")),
        "close": plain(texts("programs.form.close")),
        "blocks": blocks,
    }


def done_view(texts: Texts, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain(texts("programs.form.done_title")),
        "close": plain(texts("programs.form.close")),
        "blocks": [section(text)],
    }


# --- reading a submission ----------------------------------------------------------------------


def _value(element: Any) -> Any:
    if not isinstance(element, dict):
        return None
    if "selected_users" in element:
        return list(element.get("selected_users") or [])
    for key in ("value", "selected_date", "selected_time", "selected_conversation"):
        if key in element:
            return element.get(key)
    option = element.get("selected_option")
    return option.get("value") if isinstance(option, dict) else None


def entry_from_state(values: dict[str, Any], *, program: StoredProgram | None = None) -> dict[str, Any]:
    """The import-file mapping the modal describes (storage.program_checks then judges it)."""

    def get(block: str) -> Any:
        value = _value((values.get(block) or {}).get(ACTION))
        return value.strip() if isinstance(value, str) else value

    kind = get("kind")
    recurrence: dict[str, Any] = {"kind": kind} if kind else {}
    if kind in ("weekly", "biweekly", "monthly_nth") and get("weekdays"):
        recurrence["weekdays"] = get("weekdays")
    if kind == "biweekly" and get("date"):
        recurrence["anchor"] = get("date")
    if kind == "once" and get("date"):
        recurrence["date"] = get("date")
    if kind == "monthly_nth" and get("nth"):
        recurrence["nth"] = get("nth")
    entry = {
        "name": program.name if program else get("name"),
        "title": get("title"),
        "description": get("description"),
        "personalities": get("personalities") or [],
        "start": get("start"),
        "duration": get("duration"),
        "recurrence": recurrence,
        "holidays": get("holidays") or "keep",
        "start_date": get("start_date"),
        "end_date": get("end_date"),
        "channel": get("channel"),
        "stream_url": get("stream_url"),
        "archive_url": get("archive_url"),
        "active": program.active if program else True,
    }
    return {key: value for key, value in entry.items() if value not in (None, "")}


def block_for(problem: Problem, present: set[str]) -> str:
    field = str(problem.params.get("field") or "").removeprefix("recurrence.")
    block = _FIELD_BLOCK.get(field, field) if field else _KEY_BLOCK.get(problem.key.rsplit(".", 1)[-1], "")
    return block if block in present else "title"


def form_errors(texts: Texts, problems: list[Problem], view: dict[str, Any]) -> dict[str, str]:
    """{block_id: message} for `response_action: errors` (plain text, so user input cannot ping anyone)."""
    present = {b.get("block_id") for b in view.get("blocks", []) if isinstance(b, dict)}
    errors: dict[str, str] = {}
    for problem in problems:
        block = block_for(problem, present)
        text = texts(problem.key, **problem.params)
        errors[block] = clip(f"{errors[block]} {text}" if block in errors else text, 300)
    return errors
