"""The /register modal, its municipality options, the transfer confirmation and the small result views."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.common import Block, esc, mrkdwn, plain, safe, section
from bot.texts import Texts
from storage.community import Approval
from storage.data import Municipality, municipality, prefecture, prefectures
from storage.members import ORG_TYPES, Profile

# callback_id / block_id / action_id: shared with handlers/registration.py.
REGISTER_VIEW = "registration.submit"
TRANSFER_VIEW = "registration.transfer"
NAME_BLOCK, NAME = "reg_name", "registration.name"
ORG_TYPE_BLOCK, ORG_TYPE = "reg_org_type", "registration.org_type"
PREF_BLOCK, PREF = "reg_prefecture", "registration.prefecture"
MUNI_BLOCK, MUNI = "reg_municipality", "registration.municipality"
DEPT_BLOCK, DEPT = "reg_department", "registration.department"
TITLE_BLOCK, TITLE = "reg_title", "registration.title"
INTERESTS_BLOCK, INTERESTS = "reg_interests", "registration.interests"
CONFIRM_BLOCK, CONFIRM = "reg_confirm", "registration.confirm"
CONFIRM_VALUE = "public_servant"

# Limits enforced in the client (max_length) and again on submit, where a forged payload can exceed them.
LIMITS = {NAME_BLOCK: 50, DEPT_BLOCK: 100, TITLE_BLOCK: 100, INTERESTS_BLOCK: 500}
MAX_INTERESTS = 20
MAX_OPTIONS = 100


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, 75), "value": value}


def municipality_option(m: Municipality, *, with_prefecture: bool = False) -> dict[str, Any]:
    label = m.name if not m.county else f"{m.name} ({m.county})"
    if with_prefecture:
        pref = prefecture(m.pref_code)
        label = f"{label} ({pref.name})" if pref else label
    return _option(label, m.code)


def municipality_options(found: list[Municipality], *, with_prefecture: bool) -> dict[str, Any]:
    return {"options": [municipality_option(m, with_prefecture=with_prefecture) for m in found[:MAX_OPTIONS]]}


def government_label(texts: Texts, profile: Profile) -> str:
    """Catalogue mrkdwn (names escaped): "東京都 千代田区", "大阪府（都道府県庁）"…"""
    pref = prefecture(profile.pref_code)
    muni = municipality(profile.muni_code) if profile.muni_code else None
    key = profile.org_type if profile.org_type in ORG_TYPES else "other"
    if key == "municipality" and muni is None:
        key = "other"
    return texts(
        f"registration.government.{key}", prefecture=pref.name if pref else "", municipality=muni.name if muni else ""
    )


def _text_input(
    texts: Texts,
    block_id: str,
    action_id: str,
    label: str,
    *,
    initial: str | None,
    placeholder: str | None = None,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id, "max_length": LIMITS[block_id]}
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = plain(texts(placeholder))
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(texts(label)),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(texts(hint))
    return block


def municipality_required(org_type: str | None) -> bool:
    """市区町村 is asked of municipal staff only: the form's label and its validation both follow this."""
    return org_type == "municipality"


def form_intro(texts: Texts, community: str, approval: Approval | None = None) -> str:
    """What happens once the form is sent: an organiser approves (`manual`), or with `auto` a Slack email
    under a listed domain is approved at once and the others wait for an organiser."""
    if approval is not None and approval.mode == "auto":
        return texts("registration.modal.intro_auto", community=community, domains=", ".join(approval.domains))
    return texts("registration.modal.intro", community=community)


def register_modal(
    texts: Texts,
    *,
    community: str,
    profile: Profile | None = None,
    org_type: str | None = None,
    approval: Approval | None = None,
) -> dict[str, Any]:
    """The form; with `profile` it is pre-filled to edit an existing registration; `approval` (the profile's
    rule) says what happens once it is sent.

    `org_type` is the kind chosen so far (the form is rebuilt when it changes): it decides whether the
    municipality is marked required, so the label never says optional to someone validation asks it of.
    """
    p = profile
    org_options = [_option(texts(f"registration.org_types.{k}"), k) for k in ORG_TYPES]
    org = {
        "type": "static_select",
        "action_id": ORG_TYPE,
        "options": org_options,
        "initial_option": org_options[ORG_TYPES.index(p.org_type) if p and p.org_type in ORG_TYPES else 0],
    }
    chosen_type = org_type if org_type in ORG_TYPES else org["initial_option"]["value"]
    pref_options = [_option(x.name, x.code) for x in prefectures()]
    pref: dict[str, Any] = {
        "type": "static_select",
        "action_id": PREF,
        "options": pref_options,
        "placeholder": plain(texts("registration.modal.prefecture_placeholder")),
    }
    chosen = next((o for o in pref_options if p and o["value"] == p.pref_code), None)
    if chosen:
        pref["initial_option"] = chosen
    muni: dict[str, Any] = {
        "type": "external_select",
        "action_id": MUNI,
        "min_query_length": 0,
        "placeholder": plain(texts("registration.modal.municipality_placeholder")),
    }
    current = municipality(p.muni_code) if p and p.muni_code else None
    if current:
        muni["initial_option"] = municipality_option(current)
    confirm_option = _option(texts("registration.modal.confirm_option"), CONFIRM_VALUE)
    confirm: dict[str, Any] = {"type": "checkboxes", "action_id": CONFIRM, "options": [confirm_option]}
    if p:
        confirm["initial_options"] = [confirm_option]
    blocks: list[Block] = [
        section(texts("registration.modal.intro_edit") if p else form_intro(texts, community, approval)),
        _text_input(
            texts,
            NAME_BLOCK,
            NAME,
            "registration.modal.name",
            initial=p and p.name,
            placeholder="registration.modal.name_placeholder",
        ),
        {
            "type": "input",
            "block_id": ORG_TYPE_BLOCK,
            "label": plain(texts("registration.modal.org_type")),
            "element": org,
            "dispatch_action": True,
        },
        {
            "type": "input",
            "block_id": PREF_BLOCK,
            "label": plain(texts("registration.modal.prefecture")),
            "element": pref,
        },
        {
            "type": "input",
            "block_id": MUNI_BLOCK,
            "label": plain(texts("registration.modal.municipality")),
            "element": muni,
            "optional": not municipality_required(chosen_type),
            "hint": plain(texts("registration.modal.municipality_hint")),
        },
        _text_input(
            texts,
            DEPT_BLOCK,
            DEPT,
            "registration.modal.department",
            initial=p and p.department,
            placeholder="registration.modal.department_placeholder",
        ),
        _text_input(texts, TITLE_BLOCK, TITLE, "registration.modal.job_title", initial=p and p.title, optional=True),
        _text_input(
            texts,
            INTERESTS_BLOCK,
            INTERESTS,
            "registration.modal.interests",
            initial=", ".join(p.interests) if p and p.interests else None,
            placeholder="registration.modal.interests_placeholder",
            optional=True,
            hint="registration.modal.interests_hint",
        ),
        {
            "type": "input",
            "block_id": CONFIRM_BLOCK,
            "label": plain(texts("registration.modal.confirm")),
            "element": confirm,
        },
    ]
    title = "registration.modal.title_edit" if p else "registration.modal.title"
    return {
        "type": "modal",
        "callback_id": REGISTER_VIEW,
        "title": plain(texts(title)),
        "submit": plain(texts("registration.modal.submit")),
        "close": plain(texts("registration.modal.close")),
        "blocks": blocks,
    }


def notice_view(texts: Texts, *, title_key: str, body: str) -> dict[str, Any]:
    """A closing view shown in place of the form (response_action=update)."""
    return {
        "type": "modal",
        "title": plain(texts(title_key)),
        "close": plain(texts("registration.transfer.close")),
        "blocks": [section(body)],
    }


def transfer_modal(
    texts: Texts,
    *,
    profile: Profile,
    old_pref: str,
    old_channel: str | None,
    new_channel: str | None,
    metadata: str | None = None,
) -> dict[str, Any]:
    """Pushed over the form when the prefecture changes: nothing moves until this is confirmed.

    `metadata` is what the confirmation needs back (the handler's choice); by default the typed profile."""
    old, new = prefecture(old_pref), prefecture(profile.pref_code)
    missing = texts("registration.transfer.no_channel")
    body = texts(
        "registration.transfer.body",
        old=old.name if old else old_pref,
        new=new.name if new else "",
        old_channel=safe(f"<#{esc(old_channel)}>") if old_channel else missing,
        new_channel=safe(f"<#{esc(new_channel)}>") if new_channel else missing,
    )
    return {
        "type": "modal",
        "callback_id": TRANSFER_VIEW,
        "title": plain(texts("registration.transfer.title")),
        "submit": plain(texts("registration.transfer.submit")),
        "close": plain(texts("registration.transfer.close")),
        "private_metadata": metadata if metadata is not None else json.dumps(profile.as_dict(), ensure_ascii=False),
        "blocks": [{"type": "section", "text": mrkdwn(body)}],
    }
