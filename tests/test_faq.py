"""/faq, answers to mentions and DMs, feedback and auto-answer settings, over signed HTTP against the fake Slack."""

from __future__ import annotations

import pytest

from bot.blocks.faq import EDIT, FORWARD, HELPFUL, UNHELPFUL
from bot.local import requests as req
from bot.texts.markup import safe
from storage import faqs
from tests.faq_flow import HOSTILE, ask, body, buttons, by_question, click, load_faqs, mention, new_ts, replies

STORAGE_Q = "ワクチンの保管温度は何度ですか？"


@pytest.fixture
async def vax(signed, slack, people) -> str:
    await load_faqs(signed)
    return slack.add_channel("vaccine", members=[req.BOT_USER_ID, people.member, people.organizer])["id"]


async def test_faq_shows_top_answers_with_source_date_and_buttons(signed, people, vax):
    texts = signed.yakuba.deps.texts
    answer = await ask(signed, people.member, "/faq", "ワクチン 保管")
    assert answer["response_type"] == "ephemeral"
    entry = await by_question(signed, STORAGE_Q)
    first = answer["blocks"][2]["text"]["text"]
    assert texts("faq.results.question", question=STORAGE_Q) in first and "-90℃〜-60℃" in first
    source = texts(
        "faq.results.source", source=safe("<https://example.jp/koukankai/03/faq|第3回ワクチン接種情報交換会 FAQ>")
    )
    assert source in body(answer)
    assert texts("faq.results.updated", date=texts("faq.date", year=2021, month=5, day=16)) in body(answer)
    assert [(b["action_id"], b["value"]) for b in buttons(answer)[:2]] == [
        (HELPFUL, str(entry.id)),
        (UNHELPFUL, str(entry.id)),
    ]
    assert buttons(answer, EDIT) == [] and buttons(answer, FORWARD) == []  # a sure match: no forward offer
    # Organisers get an edit button under each result.
    organiser = await ask(signed, people.organizer, "/faq", "ワクチン 保管")
    assert buttons(organiser, EDIT)[0]["value"] == str(entry.id)


async def test_reading_match_and_categories(signed, people, vax):
    texts = signed.yakuba.deps.texts
    answer = await ask(signed, people.member, "/faq", "よやく")
    assert "接種予約システム" in body(answer) and "ネット予約" in body(answer)
    categories = await ask(signed, people.member, "/faq")
    assert texts("faq.categories.line", name="ワクチン接種", count=6) in body(categories)
    assert texts("faq.categories.line", name="コミュニティ", count=1) in body(categories)
    assert texts("faq.categories.hint") in body(categories)
    assert "運営" not in body(categories).replace(texts("faq.categories.hint"), "")  # organisers-only category
    organiser = await ask(signed, people.organizer, "/faq")
    assert texts("faq.categories.line", name="運営", count=1) in body(organiser)


async def test_organiser_only_entries_stay_with_organisers(signed, people, vax):
    member = await ask(signed, people.member, "/faq", "登壇者への謝礼")
    assert "ボランティア" not in body(member)
    organiser = await ask(signed, people.organizer, "/faq", "登壇者への謝礼")
    assert "ボランティア" in body(organiser)
    # Not even an organiser's mention in a channel shows it (everyone there reads the thread).
    event = await mention(signed, people.organizer, vax, "登壇者への謝礼は？")
    assert "ボランティア" not in str(replies(signed, vax, event["ts"]))


async def test_mention_answers_in_a_thread_once(signed, people, vax):
    texts = signed.yakuba.deps.texts
    event = await mention(signed, people.member, vax, "保管温度は？", event_id="Ev0MENTION1")
    [reply] = replies(signed, vax, event["ts"])
    assert reply["thread_ts"] == event["ts"]
    assert texts("faq.results.question", question=STORAGE_Q) in str(reply["blocks"])
    assert {b["action_id"] for b in buttons(reply)} == {HELPFUL, UNHELPFUL}
    # The same event again (a retry), and re-sent under a new event id: still one answer.
    await mention(signed, people.member, vax, "保管温度は？", event_id="Ev0MENTION1", ts=event["ts"])
    await mention(signed, people.member, vax, "保管温度は？", event_id="Ev0MENTION2", ts=event["ts"])
    assert len(replies(signed, vax, event["ts"])) == 1


async def test_dm_answers_and_ignores_bots_edits_and_itself(signed, slack, people, vax):
    texts = signed.yakuba.deps.texts
    dm = slack.dm_channel(people.member)
    ts = new_ts()
    await signed.event(req.message_event(people.member, dm, "接種券をなくしました", ts=ts, channel_type="im"))
    await signed.settle()
    [reply] = replies(signed, dm, ts)
    assert "再発行" in str(reply["blocks"]) and reply["thread_ts"] == ts

    def im(**extra) -> dict:
        return {**req.message_event(people.member, dm, "保管温度", ts=new_ts(), channel_type="im"), **extra}

    ignored = [
        im(subtype="message_changed"),
        im(bot_id="B0OTHER"),
        req.message_event(req.BOT_USER_ID, dm, "保管温度", ts=new_ts(), channel_type="im"),
        req.message_event(people.member, vax, "保管温度", ts=new_ts(), channel_type="channel"),
    ]
    before = len(slack.messages(dm)), len(slack.messages(vax))
    for event in ignored:
        assert (await signed.event(event)).status == 200
    await signed.settle()
    assert (len(slack.messages(dm)), len(slack.messages(vax))) == before
    assert texts("faq.mention.dont_know") not in str(slack.messages(dm))


LONG_DM = (
    "来週から集団接種が始まるので、届いたワクチンの受け入れ準備をしています。"
    "超低温冷凍庫が一台しかないのですが、保管温度は何度にしておけばいいのか教えてもらえますか？"
)


async def test_a_long_sentence_gets_its_entry_first_by_faq_mention_and_dm(signed, slack, people, vax):
    texts = signed.yakuba.deps.texts
    answer = await ask(signed, people.member, "/faq", LONG_DM)
    assert texts("faq.results.question", question=STORAGE_Q) in answer["blocks"][2]["text"]["text"]
    assert buttons(answer, FORWARD) == []  # sure enough not to offer forwarding it
    event = await mention(signed, people.member, vax, LONG_DM)
    [reply] = replies(signed, vax, event["ts"])
    assert texts("faq.results.question", question=STORAGE_Q) in str(reply["blocks"])
    assert {b["action_id"] for b in buttons(reply)} == {HELPFUL, UNHELPFUL}  # answered, not "I don't know"
    dm, ts = slack.dm_channel(people.member), new_ts()
    await signed.event(req.message_event(people.member, dm, LONG_DM, ts=ts, channel_type="im"))
    await signed.settle()
    [reply] = replies(signed, dm, ts)
    assert texts("faq.results.question", question=STORAGE_Q) in str(reply["blocks"])
    assert {b["action_id"] for b in buttons(reply)} == {HELPFUL, UNHELPFUL}


async def test_low_confidence_says_it_does_not_know(signed, people, vax):
    texts = signed.yakuba.deps.texts
    for question in ("ワクチン", "宇宙人との交信について", "会議室の予約"):
        event = await mention(signed, people.member, vax, question)
        [reply] = replies(signed, vax, event["ts"])
        assert reply["text"] == texts("faq.mention.dont_know"), question
        assert buttons(reply, HELPFUL) == [] and len(buttons(reply, FORWARD)) == 1  # never a confident answer
    # Related entries are named (not answered) when the words overlap.
    event = await mention(signed, people.member, vax, "ワクチン")
    assert "保管温度" in str(replies(signed, vax, event["ts"])[0]["blocks"])


async def test_auto_answer_switched_per_channel_by_organisers(signed, slack, people, vax):
    texts = signed.yakuba.deps.texts
    refused = await ask(signed, people.member, "/faq", "auto off", channel=vax)
    assert body(refused).count(texts("faq.admin.not_allowed")) >= 1
    answer = await ask(signed, people.organizer, "/faq", "auto off", channel=vax)
    assert texts("faq.auto.off", channel=vax) in body(answer)
    event = await mention(signed, people.member, vax, "保管温度は？")
    assert replies(signed, vax, event["ts"]) == []
    assert slack.ephemerals(people.member, vax)[-1]["text"] == texts("faq.mention.auto_off")
    # DMs always answer; the setting is per channel.
    dm = await ask(signed, people.organizer, "/faq", "auto off", channel=slack.dm_channel(people.organizer))
    assert texts("faq.auto.dm") in body(dm)
    status = await ask(signed, people.organizer, "/faq", "auto", channel=vax)
    assert texts("faq.auto.status_off", channel=vax) in body(status)
    await ask(signed, people.organizer, "/faq", "auto on", channel=vax)
    event = await mention(signed, people.member, vax, "保管温度は？")
    assert len(replies(signed, vax, event["ts"])) == 1


async def test_feedback_one_vote_per_member_changeable(signed, people, vax):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    answer = await ask(signed, people.member, "/faq", "保管温度")
    up, down = buttons(answer, HELPFUL)[0], buttons(answer, UNHELPFUL)[0]
    await click(signed, people.member, up)
    await click(signed, people.member, up)
    await click(signed, people.member, down)
    await click(signed, people.organizer, up)
    entry = await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=int(up["value"]))
    assert (entry.helpful, entry.unhelpful) == (1, 1)
    assert [e["text"] for e in signed.slack.ephemerals(people.member)] == [
        texts("faq.feedback.helpful"),
        texts("faq.feedback.helpful"),
        texts("faq.feedback.unhelpful"),
    ]
    # A forged click on an organisers-only entry or a missing one records nothing.
    secret = await by_question(signed, "交換会の登壇者への謝礼の扱いは？")
    for value in (str(secret.id), "999999", "abc"):
        await click(signed, people.member, {"action_id": HELPFUL, "value": value})
        assert signed.slack.ephemerals(people.member)[-1]["text"] == texts("faq.feedback.gone")
    assert (await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=secret.id)).helpful == 0


async def test_hostile_queries_never_error_and_are_escaped(signed, people, vax):
    for query in HOSTILE:
        answer = await ask(signed, people.member, "/faq", query)
        assert answer.get("response_type") == "ephemeral", query
        assert "<!channel>" not in body(answer) and "<@U00000001>" not in body(answer)
        event = await mention(signed, people.member, vax, query)
        for reply in replies(signed, vax, event["ts"]):
            assert "<!channel>" not in str(reply)
    answer = await ask(signed, people.member, "/faq", "<!channel> 宇宙人")
    assert "&lt;!channel&gt;" in body(answer)
    assert len(body(await ask(signed, people.member, "/faq", "あ" * 5000))) < 6000  # the echo is clipped
