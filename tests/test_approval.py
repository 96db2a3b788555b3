"""Approval: organisers approve (invite + greeting + DM) or reject (kind DM with the reason), once."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from bot.blocks import approvals as ids
from bot.blocks.common import MESSAGE_BLOCKS
from bot.local.slack.blockkit import check_message
from bot.texts import Texts
from bot.texts.markup import safe
from storage import prefectures
from storage.members import Profile
from storage.models import ApprovalRequest, AuditEntry
from tests.membership_flow import TEAM, card_buttons, cards, channels, decide, member, register


def texts(signed):
    return signed.yakuba.deps.texts


async def test_approve_invites_greets_and_dms_next_steps(signed, people):
    await channels(signed, None)
    await register(signed, people.member, name="田中 <b>一郎</b>")
    card = cards(signed, people.admin_channel, people.member)[0]
    await decide(signed, people.organizer, card, people.admin_channel)

    tokyo = await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code="13")
    assert tokyo.name == "kenjinkai-13-tokyo"
    invites = signed.slack.calls_to("conversations.invite")
    assert [(c.args["channel"], c.args["users"]) for c in invites] == [(tokyo.channel_id, people.member)]
    assert people.member in signed.slack.channel(tokyo.channel_id)["members"]

    greeting = signed.slack.messages(tokyo.channel_id)[-1]["text"]
    assert greeting == texts(signed)(
        "approvals.greeting",
        user=people.member,
        name=safe("田中 &lt;b&gt;一郎&lt;/b&gt;"),
        government="東京都 千代田区",
        prefecture="東京都",
    )

    dm = signed.slack.dm_messages(people.member)[-1]
    body = json.dumps(dm["blocks"], ensure_ascii=False)
    for key in ("approvals.approved_dm.briefing", "approvals.approved_dm.sections"):
        assert texts(signed)(key) in body
    assert texts(signed)("approvals.approved_dm.broadcast", channel=safe(f"<#{people.broadcast_channel}>")) in body
    assert f"<#{tokyo.channel_id}>" in body

    updated = signed.slack.messages(people.admin_channel)[0]
    assert card_buttons(updated) == []
    assert f"<@{people.organizer}>" in str(updated["blocks"])
    row = await member(signed, people.member)
    assert row.status == "approved" and row.approved_by == people.organizer and row.placed_pref_code == "13"
    async with signed.yakuba.deps.db.read() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.approved"))
    assert entry.actor == people.organizer and entry.subject == people.member

    # A second click on the (old) card changes nothing and says who decided.
    await decide(signed, people.organizer, card, people.admin_channel)
    assert len(signed.slack.calls_to("conversations.invite")) == 1
    assert len(signed.slack.dm_messages(people.member)) == 2  # received + approved
    assert texts(signed)(
        "approvals.already", by=people.organizer, decision=texts(signed)("approvals.decisions.approved")
    ) in [e["text"] for e in signed.slack.ephemerals(people.organizer)]


async def test_reject_asks_a_reason_and_sends_a_kind_dm(signed, people):
    await register(signed, people.member)
    card = cards(signed, people.admin_channel, people.member)[0]
    await decide(signed, people.organizer, card, people.admin_channel, action_id=ids.REJECT)
    modal = signed.slack.open_views(people.organizer)[-1]
    assert modal["callback_id"] == ids.REJECT_VIEW
    assert signed.slack.calls_to("chat.update") == []  # nothing decided yet

    def reason(value):
        return {ids.REASON_BLOCK: {ids.REASON: {"type": "plain_text_input", "value": value}}}

    answer = await (await signed.submit(people.organizer, modal, reason("  \x00 "))).json()
    assert answer["errors"][ids.REASON_BLOCK] == texts(signed)("registration.errors.required")
    answer = await (await signed.submit(people.organizer, modal, reason("x" * 10_000))).json()
    assert answer["response_action"] == "errors"
    assert (await member(signed, people.member)).status == "pending"

    written = "<!here> 所属を確認できませんでした。\n再申請をお待ちしています"
    response = await signed.submit(people.organizer, modal, reason(written))
    assert response.status == 200
    await signed.settle()
    row = await member(signed, people.member)
    assert row.status == "rejected"
    dm = signed.slack.dm_messages(people.member)[-1]
    escaped = "&lt;!here&gt; 所属を確認できませんでした。\n再申請をお待ちしています"
    assert dm["blocks"][0]["text"]["text"] == texts(signed)("approvals.rejected_dm.body", reason=safe(escaped))
    assert "<!here>" not in json.dumps(dm, ensure_ascii=False)
    updated = signed.slack.messages(people.admin_channel)[0]
    assert card_buttons(updated) == [] and "&lt;!here&gt;" in str(updated["blocks"])
    assert signed.slack.calls_to("conversations.invite") == []

    # Registering again after a rejection is a new application with a new card.
    await register(signed, people.member)
    assert (await member(signed, people.member)).status == "pending"
    assert len(cards(signed, people.admin_channel, people.member)) == 2


async def test_non_organiser_pressing_approve_changes_nothing(signed, people):
    await channels(signed)
    await register(signed, people.member)
    card = cards(signed, people.admin_channel, people.member)[0]
    outsider = signed.slack.add_user("yajiuma", "通りすがり")["id"]
    for action in (ids.APPROVE, ids.REJECT):
        await decide(signed, outsider, card, people.admin_channel, action_id=action)
    assert [e["text"] for e in signed.slack.ephemerals(outsider)] == [texts(signed)("approvals.refusal")] * 2
    assert (await member(signed, people.member)).status == "pending"
    assert signed.slack.calls_to("conversations.invite") == []
    assert signed.slack.calls_to("chat.update") == []
    assert signed.slack.calls_to("views.open", where=lambda c: outsider in c.args["trigger_id"]) == []
    # Nor can a forged reason submission reject it.
    modal = {"callback_id": ids.REJECT_VIEW, "private_metadata": f"{card_buttons(card)[0]['value']}||"}
    values = {ids.REASON_BLOCK: {ids.REASON: {"type": "plain_text_input", "value": "no"}}}
    answer = await (await signed.submit(outsider, modal, values)).json()
    assert answer["errors"][ids.REASON_BLOCK] == texts(signed)("approvals.refusal")
    assert (await member(signed, people.member)).status == "pending"


async def test_two_organisers_at_once_make_one_decision(signed, people):
    await channels(signed)
    admin = signed.slack.add_user("kanri", "管理 次郎", admin=True)["id"]
    signed.slack.add_members(people.admin_channel, admin)
    await register(signed, people.member)
    card = cards(signed, people.admin_channel, people.member)[0]
    value = card_buttons(card)[0]["value"]
    await asyncio.gather(
        signed.action(people.organizer, ids.APPROVE, value, channel_id=people.admin_channel, message=card),
        signed.action(admin, ids.APPROVE, value, channel_id=people.admin_channel, message=card),
    )
    await signed.settle()
    async with signed.yakuba.deps.db.read() as session:
        request = await session.scalar(select(ApprovalRequest))
        decisions = await session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.approved"))
        assert len(decisions.all()) == 1
    assert request.status == "approved" and request.decided_by in (people.organizer, admin)
    assert len(signed.slack.calls_to("conversations.invite")) == 1
    approved_dms = [
        m
        for m in signed.slack.dm_messages(people.member)
        if m["text"].startswith(texts(signed)("approvals.approved_dm.fallback", community="")[:4])
    ]
    assert len(approved_dms) == 1
    loser = admin if request.decided_by == people.organizer else people.organizer
    assert texts(signed)(
        "approvals.already", by=request.decided_by, decision=texts(signed)("approvals.decisions.approved")
    ) in [e["text"] for e in signed.slack.ephemerals(loser)]


async def test_approvals_lists_pending_for_organisers_only(signed, people):
    other = signed.slack.add_user("suzuki", "鈴木 花子")["id"]
    await register(signed, people.member)
    await register(signed, other, name="鈴木 花子", pref="01", muni="011011")
    response = await signed.command(people.organizer, "/approvals")
    listing = await response.json()
    body = json.dumps(listing, ensure_ascii=False)
    assert listing["response_type"] == "ephemeral"
    assert f"<@{people.member}>" in body and f"<@{other}>" in body and "札幌市中央区" in body
    buttons = [e for b in listing["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["style"] for b in buttons] == ["primary", "danger"] * 2

    refused = await (await signed.command(people.member, "/approvals")).json()
    assert refused["text"] == texts(signed)("approvals.list.refusal")

    # Approving from the list decides the same request and updates the card in the admin channel.
    await signed.action(
        people.organizer,
        ids.APPROVE,
        buttons[0]["value"],
        channel_id="C0GENERAL",
        message={"type": "message", "ts": "1.000001", "text": ""},
    )
    await signed.settle()
    assert (await member(signed, people.member)).status == "approved"
    assert card_buttons(cards(signed, people.admin_channel, people.member)[0]) == []
    empty_after = await (await signed.command(people.organizer, "/approvals")).json()
    assert f"<@{people.member}>" not in json.dumps(empty_after)


def test_a_long_pending_list_stays_within_slacks_block_limit_and_counts_the_rest():
    # 40 requests, each with a profile's answers, and the re-consent footer: Slack refuses a message of more
    # than 50 blocks whole (invalid_blocks), so the organiser would see nothing at all.
    texts = Texts("ja")
    rows = [
        {
            "request_id": n,
            "user_id": f"U{n:08d}",
            "profile": Profile(
                name=f"職員{n}", org_type="municipality", pref_code="13", muni_code="131016", department="総務課"
            ),
            "answers": (("所属", "市役所"), ("電話", "03-0000-0000")),
            "submitted": "12/1 09:00",
        }
        for n in range(1, 41)
    ]
    footer = ids.consent_waiting(texts, count=3, version="2", user_ids=["U1", "U2", "U3"])
    listing = ids.pending_list(texts, rows, more=0, footer=footer)
    check_message(listing)
    assert len(listing["blocks"]) <= MESSAGE_BLOCKS
    shown = [b for b in listing["blocks"] if b["type"] == "actions"]
    assert shown, "at least the oldest requests are listed"
    assert texts("approvals.list.more", count=40 - len(shown)) in json.dumps(listing, ensure_ascii=False)
    assert listing["blocks"][-2:] == footer
