"""Organisers teach the FAQ: a forwarded question answered with an existing entry becomes its alias, the admin
cards say who answered, and every member who forwarded it gets the answer by DM once (#13 point 3)."""

from __future__ import annotations

import pytest

from bot.blocks import faq_link
from bot.blocks.faq import ANSWER, EDIT, FORWARD, LINK
from bot.local import requests as req
from storage import faqs, privacy
from tests.faq_flow import ask, body, buttons, by_question, click, form, load_faqs
from tests.test_privacy import forget

ASKED = "クーポン券をなくしてしまった住民から電話がありました。どうすればいいか教えてください"
ENTRY = "接種券を紛失した人への再発行の手続きは？"


@pytest.fixture
async def loaded(signed, slack, people) -> None:
    await load_faqs(signed)


def open_cards(signed, people) -> list[dict]:
    return [m for m in signed.slack.messages(people.admin_channel) if buttons(m, LINK)]


async def forward_from(signed, user: str, question: str) -> None:
    answer = await ask(signed, user, "/faq", question)
    [forward] = buttons(answer, FORWARD)
    await click(signed, user, forward)


async def options(signed, user: str, view: dict, typed: str) -> list[dict]:
    response = await signed.suggest(user, faq_link.ENTRY, typed, view=view, block_id=faq_link.BLOCK)
    assert response.status == 200
    return (await response.json())["options"]


def chosen(option: dict) -> dict:
    return req.state_values({faq_link.BLOCK: {faq_link.ENTRY: {"type": "external_select", "selected_option": option}}})


async def test_linking_an_entry_teaches_the_alias_updates_the_cards_and_tells_each_asker_once(
    signed, slack, people, loaded
):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    other = slack.add_user("suzuki", "鈴木 次郎")["id"]
    entry = await by_question(signed, ENTRY)
    await forward_from(signed, people.member, ASKED)
    await forward_from(signed, other, ASKED)
    first, second = open_cards(signed, people)
    assert f"<@{people.member}>" in body(first) and f"<@{other}>" in body(second)

    # A member cannot open the form, see entries, or submit it.
    await click(signed, people.member, buttons(first, LINK)[0], channel=people.admin_channel, message=first)
    assert slack.open_views(people.member) == []
    assert slack.ephemerals(people.member)[-1]["text"] == texts("faq.admin.not_allowed")

    await click(signed, people.organizer, buttons(first, LINK)[0], channel=people.admin_channel, message=first)
    [view] = slack.open_views(people.organizer)
    assert view["callback_id"] == faq_link.CALLBACK
    assert await options(signed, people.member, view, "") == []
    # Typed words, or the entry's number, find it.
    found = await options(signed, people.organizer, view, "接種券 紛失")
    assert found[0]["value"] == str(entry.id)
    [by_number] = await options(signed, people.organizer, view, f"#{entry.id}")
    forged = await (await signed.submit(people.member, view, chosen(by_number))).json()
    assert forged["errors"] == {faq_link.BLOCK: texts("faq.admin.not_allowed")}

    result = await (await signed.submit(people.organizer, view, chosen(by_number))).json()
    await signed.settle()
    assert result["response_action"] == "update"
    done = texts("faq.link.done", id=entry.id, question=entry.question, count=2)
    assert done in str(result["view"])

    # The question is now an alias of the entry (a new revision), and it left the weekly report.
    taught = await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)
    [row] = await faqs.history(db=deps.db, team_id=deps.team_id, faq_id=entry.id)
    assert taught.aliases[-1].startswith("クーポン券をなくしてしまった住民から") and taught.revision == 2
    assert row.edited_by == people.organizer and row.snapshot["aliases"] == entry.aliases
    assert await faqs.top_unanswered(db=deps.db, team_id=deps.team_id) == []

    # Both cards say who answered with which entry; nobody can answer them again from there.
    assert open_cards(signed, people) == []
    answered = texts("faq.forward.answered", by=people.organizer, id=entry.id, question=entry.question)
    for card in signed.slack.messages(people.admin_channel):
        assert answered in body(card) and not buttons(card, ANSWER)
        assert buttons(card, EDIT)[0]["value"] == str(entry.id)
    assert len(slack.calls_to("chat.update")) == 2

    # Each asker got the answer by DM, once, even when the organiser submits again.
    for user in (people.member, other):
        [dm] = slack.dm_messages(user)
        assert texts("faq.answered.fallback") == dm["text"] and "再発行" in body(dm)
    await signed.submit(people.organizer, view, chosen(by_number))
    await signed.settle()
    assert [len(slack.dm_messages(u)) for u in (people.member, other)] == [1, 1]

    # The next member asking the same way gets the entry first.
    again = await ask(signed, other, "/faq", ASKED)
    assert body(again).index(entry.question) < body(again).index(texts("faq.results.helpful"))

    # The alias shows in the edit form, and removing it there removes it.
    await click(signed, people.organizer, buttons(card, EDIT)[0], channel=people.admin_channel, message=card)
    edit = slack.open_views(people.organizer)[-1]
    fields = {b["block_id"]: b["element"] for b in edit["blocks"] if b["type"] == "input"}
    assert fields["aliases"]["initial_value"].splitlines()[-1] == taught.aliases[-1]
    values = {k: v.get("initial_value") for k, v in fields.items() if v.get("initial_value")}
    values["aliases"] = "\n".join(entry.aliases)
    values["visibility"] = "public"
    await signed.submit(people.organizer, edit, form(**values))
    assert (await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)).aliases == entry.aliases


async def test_writing_a_new_answer_tells_the_asker_and_updates_the_card(signed, slack, people, loaded):
    texts = signed.yakuba.deps.texts
    await forward_from(signed, people.member, "庁舎の駐輪場の申請方法")
    [card] = open_cards(signed, people)
    await click(signed, people.organizer, buttons(card, ANSWER)[0], channel=people.admin_channel, message=card)
    [view] = slack.open_views(people.organizer)
    values = form(question="駐輪場の申請方法は？", answer="総務課に申請書を出してください。", visibility="public")
    await signed.submit(people.organizer, view, values)
    await signed.settle()
    entry = await by_question(signed, "駐輪場の申請方法は？")
    assert entry.aliases == ["庁舎の駐輪場の申請方法"]  # the member's words were not the entry's: taught too
    [dm] = slack.dm_messages(people.member)
    assert "総務課に申請書" in body(dm)
    [updated] = signed.slack.messages(people.admin_channel)
    assert texts("faq.forward.answered", by=people.organizer, id=entry.id, question=entry.question) in body(updated)


async def test_an_organisers_only_entry_cannot_answer_a_member(signed, slack, people, loaded):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    hidden, _ = await faqs.upsert(
        db=deps.db,
        team_id=deps.team_id,
        question="運営用の手順書はどこ？",
        answer="共有ドライブ",
        visibility="organisers",
    )
    await forward_from(signed, people.member, ASKED)
    [card] = open_cards(signed, people)
    await click(signed, people.organizer, buttons(card, LINK)[0], channel=people.admin_channel, message=card)
    [view] = slack.open_views(people.organizer)
    assert str(hidden.id) not in [o["value"] for o in await options(signed, people.organizer, view, str(hidden.id))]
    assert str(hidden.id) not in [o["value"] for o in await options(signed, people.organizer, view, "運営用の手順書")]
    option = {"text": {"type": "plain_text", "text": "x"}, "value": str(hidden.id)}
    result = await (await signed.submit(people.organizer, view, chosen(option))).json()
    assert result["errors"] == {faq_link.BLOCK: texts("faq.link.hidden")}
    assert slack.dm_messages(people.member) == []


async def test_forgetting_a_member_drops_their_forwarded_questions(signed, slack, people, loaded):
    deps = signed.yakuba.deps
    await forward_from(signed, people.member, ASKED)
    data = await privacy.collect(deps.db, team_id=deps.team_id, user_id=people.member)
    [asked] = data["faq_questions_forwarded"]
    assert asked["question"].startswith("クーポン券をなくしてしまった") and asked["answered_at"] is None
    await forget(signed, people.member)  # /mydata forget, confirmed, as the member does it
    data = await privacy.collect(deps.db, team_id=deps.team_id, user_id=people.member)
    assert data["faq_questions_forwarded"] == []
    async with deps.db.read() as session:
        rows = await faqs.askers(session, team_id=deps.team_id, unanswered_id=1)
    assert rows == []
