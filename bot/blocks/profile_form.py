"""The /register modal and its reading for a community profile other than the built-in one (pure builders).

The built-in (Online City Hall) form stays bot/blocks/registration.py's fixed modal, byte for byte; any other
profile's form is built here from its fields in order, and read back into the typed `Profile` (the columns
the directory, stats and placement query) plus `answers` for the fields the profile adds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.blocks import registration as ids
from bot.blocks.common import Block, context, plain, section
from bot.blocks.registration_form import _selected, _text, _value, clean, interest_list
from bot.texts import Texts
from storage.community import TEXT_KINDS, CommunityProfile, ProfileField
from storage.data import municipality, prefecture, prefectures
from storage.members import ORG_TYPES, Profile

CONSENT_BLOCK, CONSENT = "reg_consent", "registration.consent"
CHECKED = "yes"
LABEL_LIMIT = 2000  # Slack's input label and hint
SECTIONS_LIMIT = 500
# Typed columns a profile field fills by its key (the rest go to Member.answers).
TYPED_KEYS = frozenset({"name", "org_type", "department", "title"})
COLUMN_LIMITS = {"name": 100, "department": 200, "title": 200}  # storage.models.Member
_EMAIL = re.compile(
    r"^[^@\s<>]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_PHONE = re.compile(r"^\+?[0-9][0-9\- ()]{5,28}[0-9]$")


def block_of(f: ProfileField) -> tuple[str, str]:
    """(block_id, action_id) of a field; prefecture and municipality keep today's ids (options, narrowing)."""
    if f.kind == "prefecture":
        return ids.PREF_BLOCK, ids.PREF
    if f.kind == "municipality":
        return ids.MUNI_BLOCK, ids.MUNI
    return f"reg_f_{f.key}", f"registration.field.{f.key}"


@dataclass(frozen=True)
class Submission:
    """A profile form read and checked: the typed profile, the other answers, and the consent given."""

    profile: Profile
    answers: dict[str, Any] = field(default_factory=dict)
    consent_version: str | None = None


def _hint(texts: Texts, f: ProfileField) -> str | None:
    lang = texts.lang
    parts = [f.hint(lang)] if f.hint else []
    if f.purpose:
        parts.append(texts.plain("registration.profile.purpose", purpose=f.purpose(lang)))
    return "\n".join(parts) or None


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, 75), "value": value}


def _element(texts: Texts, f: ProfileField, current: Any) -> dict[str, Any]:
    _, action = block_of(f)
    lang = texts.lang
    element: dict[str, Any]
    if f.kind == "select":
        options = [_option(o.label(lang), o.value) for o in f.options]
        element = {"type": "static_select", "action_id": action, "options": options}
        chosen = next((o for o in options if o["value"] == current), None)
        if chosen:
            element["initial_option"] = chosen
    elif f.kind == "prefecture":
        options = [_option(p.name, p.code) for p in prefectures()]
        element = {
            "type": "static_select",
            "action_id": action,
            "options": options,
            "placeholder": plain(texts("registration.modal.prefecture_placeholder")),
        }
        chosen = next((o for o in options if o["value"] == current), None)
        if chosen:
            element["initial_option"] = chosen
    elif f.kind == "municipality":
        element = {
            "type": "external_select",
            "action_id": action,
            "min_query_length": 0,
            "placeholder": plain(texts("registration.modal.municipality_placeholder")),
        }
        found = municipality(current) if isinstance(current, str) and current else None
        if found:
            element["initial_option"] = ids.municipality_option(found)
    elif f.kind == "checkbox":
        option = _option(texts("registration.profile.checked"), CHECKED)
        element = {"type": "checkboxes", "action_id": action, "options": [option]}
        if current is True:
            element["initial_options"] = [option]
    elif f.kind == "email":
        element = {"type": "email_text_input", "action_id": action}
        if isinstance(current, str) and current:
            element["initial_value"] = current
    else:
        limit = SECTIONS_LIMIT if f.kind == "sections" else f.limit
        element = {"type": "plain_text_input", "action_id": action, "max_length": limit}
        if f.kind == "long_text":
            element["multiline"] = True
        if isinstance(current, list | tuple):
            current = ", ".join(current)
        if isinstance(current, str) and current:
            element["initial_value"] = current
    return element


def current_answers(community: CommunityProfile, profile: Profile | None, answers: dict[str, Any]) -> dict[str, Any]:
    """What a member already answered, by field key: the typed columns first, then the stored answers."""
    out: dict[str, Any] = {}
    if profile is None:
        return dict(answers or {})
    for f in community.fields:
        if f.kind == "prefecture":
            out[f.key] = profile.pref_code
        elif f.kind == "municipality":
            out[f.key] = profile.muni_code
        elif f.kind == "sections":
            out[f.key] = list(profile.interests)
        elif f.key in TYPED_KEYS:
            out[f.key] = getattr(profile, f.key)
    return {**out, **(answers or {})}  # a whole answer kept beside its shortened column wins


def profile_modal(
    texts: Texts, community: CommunityProfile, *, profile: Profile | None = None, answers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The form of `community`; with `profile` (and its `answers`) pre-filled to edit a registration."""
    lang = texts.lang
    current = current_answers(community, profile, answers or {})
    blocks: list[Block] = [
        section(
            texts(
                "registration.modal.intro_edit"
                if community.features.prefecture_channels
                else "registration.modal.intro_edit_plain"
            )
            if profile
            else ids.form_intro(texts, community.name, community.approval)
        )
    ]
    for f in community.fields:
        block_id, _ = block_of(f)
        block: Block = {
            "type": "input",
            "block_id": block_id,
            "label": plain(f.label(lang), LABEL_LIMIT),
            "element": _element(texts, f, current.get(f.key)),
            "optional": not f.required,
        }
        hint = _hint(texts, f)
        if hint:
            block["hint"] = plain(hint, LABEL_LIMIT)
        blocks.append(block)
    statement = community.eligibility.statement
    if community.eligibility.who != "anyone" and statement is not None:
        option = _option(statement(lang), ids.CONFIRM_VALUE)
        confirm: dict[str, Any] = {"type": "checkboxes", "action_id": ids.CONFIRM, "options": [option]}
        if profile:
            confirm["initial_options"] = [option]
        blocks.append(
            {
                "type": "input",
                "block_id": ids.CONFIRM_BLOCK,
                "label": plain(texts("registration.profile.eligibility")),
                "element": confirm,
            }
        )
    if community.consent is not None:
        consent = community.consent
        option = _option(consent.text(lang), consent.version)
        blocks.append(context(texts("registration.profile.consent_link", url=consent.url, version=consent.version)))
        blocks.append(
            {
                "type": "input",
                "block_id": CONSENT_BLOCK,
                "label": plain(texts("registration.profile.consent")),
                "element": {"type": "checkboxes", "action_id": CONSENT, "options": [option]},
            }
        )
    title = "registration.modal.title_edit" if profile else "registration.modal.title"
    return {
        "type": "modal",
        "callback_id": ids.REGISTER_VIEW,
        "title": plain(texts(title)),
        "submit": plain(texts("registration.modal.submit")),
        "close": plain(texts("registration.modal.close")),
        "blocks": blocks,
    }


def _ticked(values: dict, block_id: str, action_id: str, value: str) -> bool:
    chosen = _value(values, block_id, action_id).get("selected_options")
    return isinstance(chosen, list) and any(isinstance(o, dict) and o.get("value") == value for o in chosen)


def parse(values: dict, texts: Texts, community: CommunityProfile) -> Submission | dict[str, str]:
    """The submitted form checked against the profile: a Submission, or {block_id: message} for Slack."""
    errors: dict[str, str] = {}
    got: dict[str, Any] = {}
    for f in community.fields:
        block_id, action = block_of(f)
        if f.kind in ("text", "long_text", "email", "phone", "sections"):
            raw = _text(values, block_id, action)
            limit = SECTIONS_LIMIT if f.kind == "sections" else f.limit or 0
            if isinstance(raw, str) and len(raw) > limit:
                errors[block_id] = texts("registration.errors.too_long", limit=limit, length=len(raw))
                continue
            value = raw.strip() if f.kind == "long_text" and isinstance(raw, str) else clean(raw)
            if f.kind == "sections":
                items = interest_list(value)
                if len(items) > ids.MAX_INTERESTS:
                    errors[block_id] = texts("registration.errors.too_many_interests", limit=ids.MAX_INTERESTS)
                got[f.key] = items
                value = ", ".join(items)
            elif value and f.kind == "email" and not _EMAIL.match(value):
                errors[block_id] = texts("registration.profile.email")
            elif value and f.kind == "phone" and not _PHONE.match(value):
                errors[block_id] = texts("registration.profile.phone")
            else:
                got[f.key] = value or None
            if f.required and not value and block_id not in errors:
                errors[block_id] = texts("registration.errors.required")
        elif f.kind == "checkbox":
            got[f.key] = _ticked(values, block_id, action, CHECKED)
            if f.required and not got[f.key]:
                errors[block_id] = texts("registration.errors.required")
        else:
            chosen = _selected(values, block_id, action)
            if f.kind == "select" and chosen is not None and chosen not in {o.value for o in f.options}:
                errors[block_id] = texts("registration.profile.option")
                continue
            if f.kind == "prefecture":
                found = prefecture(chosen or "")
                chosen = found.code if found else None
            elif f.kind == "municipality" and chosen:
                muni = municipality(chosen)
                pref_key = next(x.key for x in community.fields if x.kind == "prefecture")
                if muni is None or len(chosen) != 6:
                    errors[block_id] = texts("registration.errors.municipality_unknown")
                    continue
                pref = prefecture(got.get(pref_key) or "")
                if pref is not None and muni.pref_code != pref.code:
                    actual = prefecture(muni.pref_code)
                    errors[block_id] = texts(
                        "registration.errors.municipality_elsewhere",
                        municipality=muni.name,
                        prefecture=pref.name,
                        actual=actual.name if actual else "",
                    )
                    continue
            got[f.key] = chosen
            if f.required and not chosen:
                key = "registration.errors.prefecture" if f.kind == "prefecture" else "registration.profile.option"
                errors[block_id] = texts(key)
    statement = community.eligibility.statement
    asks = community.eligibility.who != "anyone" and statement is not None
    if asks and not _ticked(values, ids.CONFIRM_BLOCK, ids.CONFIRM, ids.CONFIRM_VALUE):
        errors[ids.CONFIRM_BLOCK] = texts("registration.profile.eligibility_missing")
    consent = community.consent
    if consent is not None and not _ticked(values, CONSENT_BLOCK, CONSENT, consent.version):
        errors[CONSENT_BLOCK] = texts("registration.profile.consent_missing")
    if errors:
        return errors
    return _split(community, got)


def _fits(key: str, value: Any) -> bool:
    """Whether an answer fits its typed column; one that does not is kept whole among the answers (a longer
    name also fills the column, shortened; an organisation kind of the profile's own stays out of it)."""
    if key == "org_type":
        return value in ORG_TYPES
    return value is None or (isinstance(value, str) and len(value) <= COLUMN_LIMITS[key])


def _split(community: CommunityProfile, got: dict[str, Any]) -> Submission:
    typed: dict[str, Any] = {"name": "", "org_type": "other", "pref_code": "", "muni_code": None, "department": ""}
    answers: dict[str, Any] = {}
    for f in community.fields:
        value = got.get(f.key)
        if f.kind == "prefecture":
            typed["pref_code"] = value or ""
        elif f.kind == "municipality":
            typed["muni_code"] = value
        elif f.kind == "sections":
            typed["interests"] = tuple(value or ())
        elif f.key in TYPED_KEYS and _fits(f.key, value):
            typed[f.key] = value if value is not None else typed.get(f.key)
        elif f.key in COLUMN_LIMITS and isinstance(value, str):
            typed[f.key] = value[: COLUMN_LIMITS[f.key]]  # the directory's short form; the whole answer is kept
            answers[f.key] = value
        elif value not in (None, ""):
            answers[f.key] = value
    if not community.field("org_type") and typed["muni_code"]:
        typed["org_type"] = "municipality"  # no such question: a municipality chosen says it
    return Submission(
        profile=Profile(**typed),
        answers=answers,
        consent_version=community.consent.version if community.consent else None,
    )


def answered(
    community: CommunityProfile, answers: dict[str, Any], language: str
) -> list[tuple[ProfileField | None, str, Any]]:
    """(field or None when the profile no longer lists it, label, value) for every stored extra answer."""
    out: list[tuple[ProfileField | None, str, Any]] = []
    for key, value in (answers or {}).items():
        f = community.field(key)
        out.append((f, f.label(language) if f else key, value))
    return out


def carried_answers(community: CommunityProfile, data: Any) -> dict[str, Any]:
    """Answers carried through the transfer step's private_metadata, checked again against the profile:
    only its own fields, each of the shape its kind gives (anything else is dropped, never stored)."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        f = community.field(key) if isinstance(key, str) else None
        if f is not None and _answer_shape(f, value):
            out[key] = value
    return out


def _answer_shape(f: ProfileField, value: Any) -> bool:
    if f.kind == "checkbox":
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if f.kind == "select":
        return value in {o.value for o in f.options}
    return f.kind in TEXT_KINDS and len(value) <= (f.limit or 0)
