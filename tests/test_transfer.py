"""Journey 5: a transfer (人事異動) moves the member between 県人会 after confirmation; leaving keeps history."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.blocks import registration as ids
from bot.local import requests as req
from storage import prefectures
from storage.models import ApprovalRequest, AuditEntry
from tests.membership_flow import TEAM, approved, cards, channels, form_values, member, open_form


def texts(signed):
    return signed.yakuba.deps.texts


async def channel(signed, code: str) -> str:
    return (await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code=code)).channel_id


async def test_changing_prefecture_asks_then_moves_channels(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    tokyo, osaka = await channel(signed, "13"), await channel(signed, "27")
    assert people.member in signed.slack.channel(tokyo)["members"]

    view = await open_form(signed, people.member)
    answer = await (await signed.submit(people.member, view, form_values(pref="27", muni="271004"))).json()
    assert answer["response_action"] == "push"
    confirm = answer["view"]
    assert confirm["callback_id"] == ids.TRANSFER_VIEW
    question = confirm["blocks"][0]["text"]["text"]
    assert f"<#{tokyo}>" in question and f"<#{osaka}>" in question
    await signed.settle()
    row = await member(signed, people.member)
    assert row.pref_code == "13" and signed.slack.calls_to("conversations.kick") == []  # nothing until confirmed

    response = await signed.submit(people.member, confirm, {})
    assert (await response.json())["response_action"] == "clear"
    await signed.settle()
    row = await member(signed, people.member)
    assert (row.pref_code, row.muni_code, row.placed_pref_code, row.status) == ("27", "271004", "27", "approved")
    assert people.member in signed.slack.channel(osaka)["members"]
    assert people.member not in signed.slack.channel(tokyo)["members"]
    kicks = signed.slack.calls_to("conversations.kick")
    assert [(c.args["channel"], c.args["user"]) for c in kicks] == [(tokyo, people.member)]
    greeting = signed.slack.messages(osaka)[-1]["text"]
    assert greeting == texts(signed)(
        "registration.transfer.greeting",
        user=people.member,
        name="田中 一郎",
        government="大阪府 大阪市",
        prefecture="大阪府",
    )
    assert signed.slack.dm_messages(people.member)[-1]["text"] == texts(signed)(
        "registration.transfer.done", prefecture="大阪府"
    )
    assert len(cards(signed, people.admin_channel, people.member)) == 1  # no re-approval for the same org type
    async with signed.yakuba.deps.db.read() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "member.transferred"))
    assert entry.detail == {"from": "13", "to": "27"}


async def test_tampered_transfer_metadata_changes_nothing(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    forged = {
        "callback_id": ids.TRANSFER_VIEW,
        "private_metadata": json.dumps(
            {"name": "x", "org_type": "municipality", "pref_code": "27", "muni_code": "131016", "department": "d"}
        ),
    }
    response = await signed.submit(people.member, forged, {})
    assert (await response.json())["response_action"] == "clear"
    await signed.settle()
    assert (await member(signed, people.member)).pref_code == "13"


async def test_new_municipality_same_org_type_keeps_approval(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    view = await open_form(signed, people.member)
    answer = await (await signed.submit(people.member, view, form_values(muni="131032"))).json()
    assert answer["response_action"] == "update"
    assert texts(signed)("registration.updated.body") in json.dumps(answer["view"], ensure_ascii=False)
    await signed.settle()
    row = await member(signed, people.member)
    assert row.status == "approved" and row.muni_code == "131032"
    assert len(cards(signed, people.admin_channel, people.member)) == 1
    assert signed.slack.calls_to("conversations.kick") == []


async def test_changing_org_type_needs_approval_again(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    view = await open_form(signed, people.member)
    answer = await (await signed.submit(people.member, view, form_values(org_type="prefecture", muni=None))).json()
    assert texts(signed)("registration.updated.reapproval") in json.dumps(answer["view"], ensure_ascii=False)
    await signed.settle()
    row = await member(signed, people.member)
    assert row.status == "pending" and row.org_type == "prefecture"
    new_cards = cards(signed, people.admin_channel, people.member)
    assert len(new_cards) == 2
    assert texts(signed)("approvals.card.title_reapproval") in str(new_cards[-1]["blocks"])
    assert people.member in signed.slack.channel(await channel(signed, "13"))["members"]  # stays meanwhile


async def test_rule_municipality_reapproves_any_move(signed, people):
    deps = signed.yakuba.deps
    deps.settings = deps.settings.model_copy(update={"yakuba_reapprove_on": "municipality"})
    await channels(signed)
    await approved(signed, people, people.member)
    view = await open_form(signed, people.member)
    await signed.submit(people.member, view, form_values(muni="131032"))
    await signed.settle()
    assert (await member(signed, people.member)).status == "pending"
    async with deps.db.read() as session:
        kinds = list(await session.scalars(select(ApprovalRequest.kind).order_by(ApprovalRequest.id)))
    assert kinds == ["new", "reapproval"]


async def test_leave_and_rejoin_keep_the_profile(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    tokyo = await channel(signed, "13")
    user = signed.slack.user(people.member)

    signed.slack.set_deleted(people.member)
    await signed.event({"type": "user_change", "user": {**user, "deleted": True}})
    await signed.settle()
    row = await member(signed, people.member)
    assert row.left_at is not None and row.status == "approved" and row.name == "田中 一郎"
    async with signed.yakuba.deps.db.read() as session:
        assert await session.scalar(select(AuditEntry).where(AuditEntry.action == "member.left")) is not None
    answer = await (await signed.command(people.organizer, "/approvals")).json()
    assert f"<@{people.member}>" not in json.dumps(answer)

    # Slack removes nobody from channels on deactivation here; a kick by an admin meanwhile:
    signed.slack.remove_members(tokyo, people.member)
    signed.slack.set_deleted(people.member, False)
    await signed.event({"type": "user_change", "user": {**user, "deleted": False}})
    await signed.settle()
    row = await member(signed, people.member)
    assert row.left_at is None and row.pref_code == "13" and row.status == "approved"
    assert people.member in signed.slack.channel(tokyo)["members"]

    # The same person leaving and coming back by team_join is restored without a second welcome.
    await signed.event({"type": "user_change", "user": {**user, "deleted": True}})
    await signed.settle()  # they left first; the inbox works on stored events concurrently, not in order
    await signed.event(req.team_join_event(user))
    await signed.settle()
    assert (await member(signed, people.member)).left_at is None


async def test_leaving_own_prefecture_channel_is_recorded(signed, people):
    await channels(signed)
    await approved(signed, people, people.member)
    tokyo = await channel(signed, "13")
    await signed.event(
        {"type": "member_left_channel", "user": people.member, "channel": tokyo, "channel_type": "C", "team": TEAM}
    )
    await signed.settle()
    assert (await member(signed, people.member)).placed_pref_code is None
    for hostile in (
        {"type": "user_change", "user": {"id": "<!channel>", "deleted": True}},
        {"type": "user_change", "user": "U1"},
        {"type": "member_left_channel", "user": 3},
    ):
        assert (await signed.event(hostile)).status in (200, 400)  # the server refuses shapes bolt cannot read
    await signed.settle()
