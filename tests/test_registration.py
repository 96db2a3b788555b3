"""Journey 1: join → welcome → the /register form (options, validation) → an approval card for organisers."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.blocks import registration as ids
from bot.blocks.approvals import APPROVE, REJECT
from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.local import requests as req
from storage.models import ApprovalRequest, AuditEntry, Member
from tests.membership_flow import TEAM, card_buttons, cards, form_values, member, open_form, register


def texts(signed):
    return signed.yakuba.deps.texts


async def suggest(signed, user_id: str, view: dict, typed: str, pref: str | None) -> list[dict]:
    values = form_values(pref=pref, muni=None) if pref else {}
    response = await signed.suggest(user_id, ids.MUNI, typed, view=view, values=values, block_id=ids.MUNI_BLOCK)
    assert response.status == 200
    return (await response.json())["options"]


async def test_welcome_button_opens_form_options_submit_and_card(signed, people):
    await signed.event(req.team_join_event(signed.slack.user(people.member)))
    await signed.settle()
    welcome = signed.slack.dm_messages(people.member)[0]
    button = welcome["blocks"][3]["elements"][0]
    assert button["action_id"] == OPEN_REGISTRATION

    await signed.action(people.member, OPEN_REGISTRATION, button["value"], channel_id="D0WELCOME", message=welcome)
    await signed.settle()
    view = signed.slack.open_views(people.member)[-1]
    assert view["callback_id"] == ids.REGISTER_VIEW
    block_ids = [b.get("block_id") for b in view["blocks"]]
    for block in (
        ids.NAME_BLOCK,
        ids.PREF_BLOCK,
        ids.MUNI_BLOCK,
        ids.DEPT_BLOCK,
        ids.TITLE_BLOCK,
        ids.INTERESTS_BLOCK,
        ids.CONFIRM_BLOCK,
    ):
        assert block in block_ids
    assert len(next(b for b in view["blocks"] if b.get("block_id") == ids.PREF_BLOCK)["element"]["options"]) == 47

    # Kana, romaji and kanji all find 千代田区 within 東京都; another prefecture does not offer it.
    for typed in ("ちよだ", "チヨダ", "chiyoda", "千代田"):
        assert "131016" in [o["value"] for o in await suggest(signed, people.member, view, typed, "13")]
    assert "131016" not in [o["value"] for o in await suggest(signed, people.member, view, "ちよだ", "27")]
    everywhere = await suggest(signed, people.member, view, "ちゅうおう", None)
    assert {o["value"][:2] for o in everywhere} >= {"13", "01"}  # 中央区 of Tokyo and of Sapporo
    assert all(len(o["text"]["text"]) <= 75 for o in everywhere)
    assert len(await suggest(signed, people.member, view, "", None)) == 100
    assert await suggest(signed, people.member, view, "x" * 5000, "13") == []

    response = await signed.submit(people.member, view, form_values(interests="ライティング課、防災課"))
    answer = await response.json()
    assert answer["response_action"] == "update"
    assert texts(signed)("registration.received.body") in json.dumps(answer["view"], ensure_ascii=False)
    await signed.settle()

    row = await member(signed, people.member)
    assert row.status == "pending" and row.pref_code == "13" and row.muni_code == "131016"
    assert row.interests == ["ライティング課", "防災課"] and row.public_servant_confirmed_at is not None
    card = cards(signed, people.admin_channel, people.member)
    assert len(card) == 1
    approve, reject = card_buttons(card[0])
    assert (approve["action_id"], approve["style"]) == (APPROVE, "primary")
    assert (reject["action_id"], reject["style"]) == (REJECT, "danger")
    assert "千代田区" in str(card[0]["blocks"])
    dms = [m["text"] for m in signed.slack.dm_messages(people.member)]
    assert texts(signed)("registration.received.dm") in dms
    async with signed.yakuba.deps.db.read() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "registration.submitted" in actions


async def assert_nothing_saved(signed, user_id: str) -> None:
    row = await member(signed, user_id)
    assert row is None or (row.name is None and row.status == "joined")
    async with signed.yakuba.deps.db.read() as session:
        assert (await session.scalars(select(ApprovalRequest))).all() == []
    assert signed.slack.calls_to("chat.postMessage") == []


async def test_bad_input_gets_inline_errors_and_saves_nothing(signed, people):
    t = texts(signed)
    view = await open_form(signed, people.member)
    cases = [
        (form_values(muni="999999"), ids.MUNI_BLOCK, t("registration.errors.municipality_unknown")),
        (
            form_values(pref="27"),
            ids.MUNI_BLOCK,
            t(
                "registration.errors.municipality_elsewhere",
                municipality="千代田区",
                prefecture="大阪府",
                actual="東京都",
            ),
        ),
        (form_values(muni=None), ids.MUNI_BLOCK, t("registration.errors.municipality_required")),
        (form_values(confirm=False), ids.CONFIRM_BLOCK, t("registration.errors.confirm")),
        (form_values(name="あ" * 10_000), ids.NAME_BLOCK, t("registration.errors.too_long", limit=50, length=10_000)),
        (
            form_values(department="x" * 10_000),
            ids.DEPT_BLOCK,
            t("registration.errors.too_long", limit=100, length=10_000),
        ),
        (form_values(name="\x00\u202e\n  "), ids.NAME_BLOCK, t("registration.errors.required")),
        (form_values(pref="99"), ids.PREF_BLOCK, t("registration.errors.prefecture")),
        (form_values(org_type="mayor"), ids.ORG_TYPE_BLOCK, t("registration.errors.org_type")),
        (form_values(department=None), ids.DEPT_BLOCK, t("registration.errors.required")),
    ]
    for values, block, message in cases:
        response = await signed.submit(people.member, view, values)
        answer = await response.json()
        assert answer["response_action"] == "errors", block
        assert answer["errors"][block] == message
    # A forged payload with a municipality of the wrong shape or type is refused the same way.
    forged = form_values()
    forged[ids.MUNI_BLOCK][ids.MUNI]["selected_option"] = {"value": ["131016"]}
    answer = await (await signed.submit(people.member, view, forged)).json()
    assert answer["response_action"] == "errors"
    await signed.settle()
    await assert_nothing_saved(signed, people.member)


async def test_prefecture_staff_need_no_municipality(signed, people):
    answer = await register(signed, people.member, org_type="prefecture", pref="27", muni=None)
    assert answer["response_action"] == "update"
    row = await member(signed, people.member)
    assert row.org_type == "prefecture" and row.muni_code is None and row.status == "pending"


async def test_control_characters_are_stripped_and_mentions_escaped(signed, people):
    await register(signed, people.member, name="<!channel> 田中\x07\u200b一郎\r\n", title="<@U0BOT> &係長")
    row = await member(signed, people.member)
    assert row.name == "<!channel> 田中一郎" and row.title == "<@U0BOT> &係長"
    posted = json.dumps([c.args for c in signed.slack.calls_to("chat.postMessage")], ensure_ascii=False)
    assert "<!channel>" not in posted and "<@U0BOT>" not in posted
    assert "&lt;!channel&gt; 田中一郎" in posted and "&lt;@U0BOT&gt; &amp;係長" in posted


async def test_register_again_edits_the_pending_profile(signed, people):
    await register(signed, people.member)
    view = await open_form(signed, people.member)
    assert view["title"]["text"] == texts(signed)("registration.modal.title_edit")
    by_block = {b.get("block_id"): b for b in view["blocks"]}
    assert by_block[ids.NAME_BLOCK]["element"]["initial_value"] == "田中 一郎"
    assert by_block[ids.PREF_BLOCK]["element"]["initial_option"]["value"] == "13"
    assert by_block[ids.MUNI_BLOCK]["element"]["initial_option"]["value"] == "131016"
    assert by_block[ids.CONFIRM_BLOCK]["element"]["initial_options"][0]["value"] == ids.CONFIRM_VALUE

    response = await signed.submit(people.member, view, form_values(muni="131024", department="中央区 企画課"))
    assert (await response.json())["response_action"] == "update"
    await signed.settle()
    row = await member(signed, people.member)
    assert row.muni_code == "131024" and row.status == "pending"
    assert len(cards(signed, people.admin_channel, people.member)) == 1  # the same card, updated
    updated = signed.slack.calls_to("chat.update")
    assert len(updated) == 1 and "企画課" in str(updated[0].args["blocks"])
    async with signed.yakuba.deps.db.read() as session:
        assert len((await session.scalars(select(ApprovalRequest))).all()) == 1


async def test_register_without_admin_channel_still_saves(signed, people):
    signed.yakuba.deps.settings = signed.yakuba.settings.model_copy(update={"yakuba_admin_channel": None})
    await register(signed, people.member)
    async with signed.yakuba.deps.db.read() as session:
        row = await session.scalar(select(Member).where(Member.team_id == TEAM))
    assert row.status == "pending"
    assert cards(signed, people.admin_channel) == []


async def test_municipality_search_is_scoped_to_the_prefecture_chosen_in_the_form(signed, people):
    view = await open_form(signed, people.member)
    in_tokyo = await suggest(signed, people.member, view, "千代田", "13")
    assert in_tokyo[0]["value"] == "131016"  # 千代田区
    assert not [o for o in in_tokyo if not o["value"].startswith("13")]  # 群馬県 千代田町 is not offered
    assert "(" not in in_tokyo[0]["text"]["text"]  # no prefecture in the label when it is the chosen one
    anywhere = await suggest(signed, people.member, view, "千代田", None)
    assert {o["value"][:2] for o in anywhere} == {"10", "13"}  # before a prefecture is chosen: both, named
    assert all("(" in o["text"]["text"] for o in anywhere)


def muni_block(view: dict) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == ids.MUNI_BLOCK)


async def test_municipality_is_marked_required_exactly_when_validation_asks_for_it(signed, people):
    view = await open_form(signed, people.member)
    assert muni_block(view)["optional"] is False  # 所属の種類 starts at 市区町村: required, and so validated
    refused = await (await signed.submit(people.member, view, form_values(muni=None))).json()
    assert refused["errors"] == {ids.MUNI_BLOCK: texts(signed)("registration.errors.municipality_required")}

    chosen = {
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "prefecture"},
    }
    state = form_values(org_type="prefecture", muni=None)
    response = await signed.action(
        people.member,
        ids.ORG_TYPE,
        view=view,
        block_id=ids.ORG_TYPE_BLOCK,
        selected_option=chosen["selected_option"],
        state_values=state,
    )
    assert response.status == 200
    await signed.settle()
    [update] = signed.slack.calls_to("views.update")
    assert update.args["view_id"] == view["id"]
    view = signed.slack.open_views(people.member)[-1]
    assert muni_block(view)["optional"] is True  # 都道府県庁: optional, and so accepted without one
    accepted = await (await signed.submit(people.member, view, state)).json()
    assert accepted["response_action"] == "update"
    await signed.settle()
    row = await member(signed, people.member)
    assert (row.org_type, row.pref_code, row.muni_code) == ("prefecture", "13", None)
