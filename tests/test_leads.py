"""Organisers appoint prefecture leads from a form; nobody else can, whatever they send."""

from __future__ import annotations

from bot.blocks import leads as ids
from bot.local import requests as req
from storage import members


async def approved(signed, user_id: str, pref: str = "13") -> None:
    db = signed.yakuba.deps.db
    async with db.write() as session:
        member = await members.join(session, team_id="T0LOCAL", user_id=user_id)
        member.status, member.pref_code = "approved", pref


def form(user_id: str, role: str) -> dict:
    return req.state_values(
        {
            ids.USER_BLOCK: {ids.USER: {"type": "users_select", "selected_user": user_id}},
            ids.ROLE_BLOCK: {ids.ROLE: {"type": "radio_buttons", "selected_option": {"value": role}}},
        }
    )


async def submit(signed, actor: str, values: dict):
    view = ids.lead_modal(signed.yakuba.deps.texts)
    return await signed.post(req.view_submission_body(user_id=actor, view=view, values=values))


async def test_organiser_opens_the_form_and_appoints_a_lead(signed, people):
    await approved(signed, people.member)
    await signed.command(people.organizer, "/yakuba", "lead")
    await signed.settle()
    [opened] = signed.slack.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == ids.LEAD_VIEW
    response = await submit(signed, people.organizer, form(people.member, "appoint"))
    assert (await response.json())["response_action"] == "clear"
    member = await members.get(signed.yakuba.deps.db, team_id="T0LOCAL", user_id=people.member)
    assert member.is_lead is True
    await submit(signed, people.organizer, form(people.member, "release"))
    member = await members.get(signed.yakuba.deps.db, team_id="T0LOCAL", user_id=people.member)
    assert member.is_lead is False


async def test_members_cannot_open_or_forge_the_form(signed, people):
    await approved(signed, people.member)
    response = await signed.command(people.member, "/yakuba", "lead")
    assert (await response.json())["text"] == signed.yakuba.deps.texts("leads.refused")
    response = await submit(signed, people.member, form(people.member, "appoint"))
    assert (await response.json())["response_action"] == "errors"
    member = await members.get(signed.yakuba.deps.db, team_id="T0LOCAL", user_id=people.member)
    assert member.is_lead is False


async def test_only_approved_members_with_a_prefecture_can_lead(signed, people):
    response = await submit(signed, people.organizer, form("U0NOBODY", "appoint"))
    body = await response.json()
    assert body["errors"][ids.USER_BLOCK] == signed.yakuba.deps.texts("leads.not_member")
