"""Demo journey 1 for a community profile (`yakuba demo --community FILE`): join → the profile's form → decision.

The applicant fills whatever the profile asks, in its order, with sample answers chosen by field kind; a
profile with an eligibility statement first shows the kind refusal when it is left unticked.
"""

from __future__ import annotations

from typing import Any

from bot.blocks import approvals as approval_ids
from bot.blocks import profile_form
from bot.blocks import registration as ids
from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.local.demo.story import StoryClock
from bot.local.workspace import LocalWorkspace
from bot.services.prefectures import setup_prefectures

APPLICANT = ("sato", "佐藤 花子")
# What the applicant types, by field key first and then by kind (a demo's sample person, not catalogue text).
BY_KEY = {"name": "佐藤 花子", "organisation": "まちづくり協議会", "department": "企画課", "title": "主任"}
BY_KIND = {"email": "hanako@example.jp", "phone": "03-1234-5678", "text": "-", "long_text": "-", "sections": ""}


def _choice(option: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"type": kind, "selected_option": option}


async def _answers(ws: LocalWorkspace) -> dict[str, dict[str, Any]]:
    community = ws.yakuba.deps.community
    values: dict[str, dict[str, Any]] = {}
    for f in community.fields:
        block_id, action = profile_form.block_of(f)
        if f.kind in ("select", "prefecture"):
            view = ws.views[ws.me]
            element = next(b["element"] for b in view["blocks"] if b.get("block_id") == block_id)
            option = element["options"][12 if f.kind == "prefecture" else 0]  # 東京都 / the first choice
            values[block_id] = {action: _choice(option, "static_select")}
        elif f.kind == "municipality":
            state = {b: {a: v for a, v in acts.items() if isinstance(v, dict)} for b, acts in values.items()}
            found = await ws.suggest(ids.MUNI, "ちよだ", values=state, block_id=block_id)
            values[block_id] = {action: _choice(found[0], "external_select")}
        elif f.kind == "checkbox":
            option = {"text": {"type": "plain_text", "text": "-"}, "value": profile_form.CHECKED}
            values[block_id] = {action: {"type": "checkboxes", "selected_options": [option]}}
        else:
            values[block_id] = {action: BY_KEY.get(f.key, BY_KIND[f.kind])}
    if community.consent is not None:
        option = {"text": {"type": "plain_text", "text": "-"}, "value": community.consent.version}
        values[profile_form.CONSENT_BLOCK] = {
            profile_form.CONSENT: {"type": "checkboxes", "selected_options": [option]}
        }
    return values


async def journey_profile(ws: LocalWorkspace, story: StoryClock) -> None:
    deps = ws.yakuba.deps
    community = deps.community
    if community.features.prefecture_channels:
        await setup_prefectures(deps, team_id=deps.team_id, actor=ws.organizer)
        ws.discard()
    ws.narrate("demo.join", name=APPLICANT[1])
    await ws.join(*APPLICANT)
    ws.narrate("demo.profile.form", community=community.name, count=len(community.fields))
    await ws.click_action(OPEN_REGISTRATION)
    values = await _answers(ws)
    if community.eligibility.who != "anyone":
        ws.narrate("demo.profile.not_eligible")
        await ws.submit(values)
        ws.narrate("demo.profile.eligible")
        option = {"text": {"type": "plain_text", "text": "-"}, "value": ids.CONFIRM_VALUE}
        values[ids.CONFIRM_BLOCK] = {ids.CONFIRM: {"type": "checkboxes", "selected_options": [option]}}
    await ws.submit(values)
    applicant = ws.me
    ws.narrate("demo.profile.approve")
    ws.me = ws.organizer
    await ws.click_action(approval_ids.APPROVE)
    ws.me = applicant
    ws.narrate("demo.profile.mydata")
    await ws.command("/mydata", "export")
