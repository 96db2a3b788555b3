"""Reading the /register form: clean every field, validate against the official list, or say what is wrong.

Pure functions (no Slack, no database): `parse(values, texts)` returns a Profile or {block_id: message},
the shape `ack(response_action="errors", errors=…)` wants.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.blocks import registration as ids
from bot.texts import Texts
from storage.data import municipality, prefecture
from storage.members import ORG_TYPES, Profile

# Control and format characters (newlines, NUL, bidi overrides, zero-width) never belong in a profile.
_SPACES = re.compile(r"\s+")
_SEPARATORS = re.compile(r"[,、，;；\n]+")


def interest_list(raw: str) -> list[str]:
    """The 課 a member typed, split at commas, 読点 or new lines, each once, in the order typed."""
    items: list[str] = []
    for item in _SEPARATORS.split(raw):
        item = item.strip()
        if item and item not in items:
            items.append(item)
    return items


def clean(value: Any) -> str:
    """One line of text: NFC, control/format characters removed, runs of whitespace made one space."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", value)
    text = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in text
        if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
    return _SPACES.sub(" ", text).strip()


def _value(values: dict, block_id: str, action_id: str) -> dict:
    block = values.get(block_id) if isinstance(values, dict) else None
    state = block.get(action_id) if isinstance(block, dict) else None
    return state if isinstance(state, dict) else {}


def _text(values: dict, block_id: str, action_id: str) -> Any:
    return _value(values, block_id, action_id).get("value")


def _selected(values: dict, block_id: str, action_id: str) -> str | None:
    option = _value(values, block_id, action_id).get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def chosen_org_type(values: dict) -> str | None:
    """The kind of organisation picked so far in the open form."""
    value = _selected(values, ids.ORG_TYPE_BLOCK, ids.ORG_TYPE)
    return value if value in ORG_TYPES else None


def chosen_prefecture(values: dict) -> str | None:
    """The prefecture picked so far in the open form (options requests narrow by it)."""
    found = prefecture(_selected(values, ids.PREF_BLOCK, ids.PREF))
    return found.code if found else None


def parse(values: dict, texts: Texts) -> Profile | dict[str, str]:
    errors: dict[str, str] = {}

    def text_field(block_id: str, action_id: str, *, required: bool) -> str:
        raw = _text(values, block_id, action_id)
        limit = ids.LIMITS[block_id]
        if isinstance(raw, str) and len(raw) > limit:
            errors[block_id] = texts("registration.errors.too_long", limit=limit, length=len(raw))
            return ""
        value = clean(raw)
        if required and not value:
            errors[block_id] = texts("registration.errors.required")
        return value

    name = text_field(ids.NAME_BLOCK, ids.NAME, required=True)
    department = text_field(ids.DEPT_BLOCK, ids.DEPT, required=True)
    title = text_field(ids.TITLE_BLOCK, ids.TITLE, required=False)
    interests_raw = text_field(ids.INTERESTS_BLOCK, ids.INTERESTS, required=False)
    interests = interest_list(interests_raw)
    if len(interests) > ids.MAX_INTERESTS:
        errors[ids.INTERESTS_BLOCK] = texts("registration.errors.too_many_interests", limit=ids.MAX_INTERESTS)

    org_type = _selected(values, ids.ORG_TYPE_BLOCK, ids.ORG_TYPE)
    if org_type not in ORG_TYPES:
        errors[ids.ORG_TYPE_BLOCK] = texts("registration.errors.org_type")
    pref = prefecture(_selected(values, ids.PREF_BLOCK, ids.PREF) or "")
    if pref is None:
        errors[ids.PREF_BLOCK] = texts("registration.errors.prefecture")

    muni_code = _selected(values, ids.MUNI_BLOCK, ids.MUNI)
    muni = municipality(muni_code) if muni_code else None
    if muni_code and (muni is None or len(muni_code) != 6):
        errors[ids.MUNI_BLOCK] = texts("registration.errors.municipality_unknown")
    elif muni is not None and pref is not None and muni.pref_code != pref.code:
        actual = prefecture(muni.pref_code)
        errors[ids.MUNI_BLOCK] = texts(
            "registration.errors.municipality_elsewhere",
            municipality=muni.name,
            prefecture=pref.name,
            actual=actual.name if actual else "",
        )
    elif muni is None and ids.municipality_required(org_type):
        errors[ids.MUNI_BLOCK] = texts("registration.errors.municipality_required")

    confirmed = _value(values, ids.CONFIRM_BLOCK, ids.CONFIRM).get("selected_options")
    if not isinstance(confirmed, list) or not any(
        isinstance(o, dict) and o.get("value") == ids.CONFIRM_VALUE for o in confirmed
    ):
        errors[ids.CONFIRM_BLOCK] = texts("registration.errors.confirm")

    if errors:
        return errors
    assert pref is not None and org_type is not None
    return Profile(
        name=name,
        org_type=org_type,
        pref_code=pref.code,
        muni_code=muni.code if muni else None,
        department=department,
        title=title or None,
        interests=tuple(interests),
    )


def from_metadata(data: Any) -> Profile | None:
    """A profile carried in a view's private_metadata (the transfer step), checked again before use."""
    if not isinstance(data, dict):
        return None
    try:
        profile = Profile(
            name=clean(data["name"]),
            org_type=data["org_type"],
            pref_code=data["pref_code"],
            muni_code=data.get("muni_code"),
            department=clean(data["department"]),
            title=clean(data.get("title")) or None,
            interests=tuple(clean(i) for i in data.get("interests") or () if clean(i)),
        )
    except (KeyError, TypeError):
        return None
    muni = municipality(profile.muni_code) if profile.muni_code else None
    if (
        profile.org_type not in ORG_TYPES
        or prefecture(profile.pref_code) is None
        or not profile.name
        or (profile.muni_code and (muni is None or muni.pref_code != profile.pref_code))
    ):
        return None
    return profile
