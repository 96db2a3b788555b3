"""Organisers' side of the FAQ: forwarded questions, the add / edit modal with inline errors, the weekly report."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.blocks.faq import ANSWER, EDIT, FORWARD, UNHELPFUL
from bot.local import requests as req
from bot.texts.markup import safe
from schedules import faq_report
from schedules.scheduler import Scheduler
from storage import faqs
from tests.faq_flow import ask, body, buttons, by_question, click, form, load_faqs, mention, replies

JST = ZoneInfo("Asia/Tokyo")
ODD = "駐輪場の申請方法 <!channel>"


@pytest.fixture
async def vax(signed, slack, people) -> str:
    await load_faqs(signed)
    return slack.add_channel("vaccine", members=[req.BOT_USER_ID, people.member, people.organizer])["id"]


def forwarded(signed, people) -> list[dict]:
    return [m for m in signed.slack.messages(people.admin_channel) if buttons(m, ANSWER)]


async def test_no_match_forwards_once_and_organiser_answers_it(signed, slack, people, vax):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    answer = await ask(signed, people.member, "/faq", ODD)
    assert answer["text"] == texts("faq.no_match.text", query=safe("駐輪場の申請方法 &lt;!channel&gt;"))
    [forward] = buttons(answer, FORWARD)
    assert [q.question for q in await faqs.top_unanswered(db=deps.db, team_id=deps.team_id)] == [ODD]
    await click(signed, people.member, forward)
    await click(signed, people.member, forward)
    assert [e["text"] for e in slack.ephemerals(people.member)] == [
        texts("faq.forward.done"),
        texts("faq.forward.already"),
    ]
    [post] = forwarded(signed, people)
    assert "&lt;!channel&gt;" in str(post["blocks"]) and "<!channel>" not in str(post)
    assert f"<@{people.member}>" in str(post["blocks"])
    # Another member forwarding the same question is a second card (once per question per member).
    await click(signed, people.organizer, forward)
    assert len(forwarded(signed, people)) == 2
    # The organiser answers from the card: the add form opens with the question filled in.
    await click(signed, people.member, buttons(post, ANSWER)[0], channel=people.admin_channel, message=post)
    assert slack.open_views(people.member) == []
    assert slack.ephemerals(people.member)[-1]["text"] == texts("faq.admin.not_allowed")
    await click(signed, people.organizer, buttons(post, ANSWER)[0], channel=people.admin_channel, message=post)
    [view] = slack.open_views(people.organizer)
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks["question"]["initial_value"] == ODD
    values = form(question="駐輪場の申請方法は？", answer="総務課に申請書を出してください。", visibility="public")
    result = await (await signed.submit(people.organizer, view, values)).json()
    assert result["response_action"] == "update"
    assert await faqs.top_unanswered(db=deps.db, team_id=deps.team_id) == []  # resolved: leaves the report
    assert (await by_question(signed, "駐輪場の申請方法は？")).author == people.organizer


async def test_weak_results_offer_forwarding_too(signed, slack, people, vax):
    texts = signed.yakuba.deps.texts
    answer = await ask(signed, people.member, "/faq", "ワクチン")  # three equally good: none is sure
    assert texts("faq.results.not_found_hint") in body(answer)
    await click(signed, people.member, buttons(answer, FORWARD)[0])
    [post] = forwarded(signed, people)
    assert "ワクチン" in str(post["blocks"])
    # A mention the bot cannot answer offers the same, from the thread.
    event = await mention(signed, people.member, vax, "庁舎の駐車場の予約方法")
    [reply] = replies(signed, vax, event["ts"])
    await click(signed, people.member, buttons(reply, FORWARD)[0], channel=vax, message=reply)
    assert len(forwarded(signed, people)) == 2


async def test_organiser_adds_with_inline_errors(signed, slack, people, vax):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    await ask(signed, people.organizer, "/faq", "add")
    [view] = slack.open_views(people.organizer)
    assert view["callback_id"] == "faq.save" and view["private_metadata"] == ""
    bad = form(question="", answer="", source_url="ftp://example.jp/x", visibility="public")
    errors = (await (await signed.submit(people.organizer, view, bad)).json())["errors"]
    assert errors == {
        "question": texts("faq.form.error.required"),
        "answer": texts("faq.form.error.required"),
        "source_url": texts("faq.form.error.bad_url"),
    }
    existing = await by_question(signed, "ワクチンの保管温度は何度ですか？")
    taken = form(question="ワクチンの保管温度は何度ですか", answer="上書き", visibility="public")
    errors = (await (await signed.submit(people.organizer, view, taken)).json())["errors"]
    assert errors == {"question": texts("faq.form.error.taken", id=existing.id)}
    assert (await by_question(signed, "ワクチンの保管温度は何度ですか？")).answer == existing.answer
    good = form(
        question="モデルナ社ワクチンの保管温度は？",
        answer="*-25℃〜-15℃* です。<!here>",
        tags="ワクチン, 保管",
        source="第8回ワクチン接種情報交換会 FAQ",
        source_url="https://example.jp/08",
        updated_on="2021-06-20",
        visibility="members",
        aliases="武田モデルナ\nモデルナの保存",
    )
    result = await (await signed.submit(people.organizer, view, good)).json()
    assert result["response_action"] == "update" and "&lt;!here&gt;" not in str(result)  # question only is echoed
    saved = await by_question(signed, "モデルナ社ワクチンの保管温度は？")
    assert (saved.tags, saved.aliases, saved.visibility) == (
        ["ワクチン", "保管"],
        ["武田モデルナ", "モデルナの保存"],
        "members",
    )
    answer = await ask(signed, people.member, "/faq", "モデルナ 保管")
    assert "-25℃〜-15℃" in body(answer) and "&lt;!here&gt;" in body(answer) and "<!here>" not in body(answer)
    assert await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=saved.id)


async def test_organiser_edits_and_history_is_kept(signed, slack, people, vax):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    entry = await by_question(signed, "ワクチンの保管温度は何度ですか？")
    assert texts("faq.admin.not_found", id=999999) in body(await ask(signed, people.organizer, "/faq", "edit 999999"))
    assert texts("faq.admin.edit_usage") in body(await ask(signed, people.organizer, "/faq", "edit"))
    await ask(signed, people.organizer, "/faq", f"edit {entry.id}")
    [view] = slack.open_views(people.organizer)
    fields = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert fields["question"]["initial_value"] == entry.question
    assert fields["updated_on"]["initial_date"] == "2021-05-16"
    assert fields["visibility"]["initial_option"]["value"] == "public"
    values = form(
        question="ワクチンの保管温度（ファイザー社）は？",
        answer="-90℃〜-60℃。",
        tags=fields["tags"]["initial_value"],
        category="ワクチン接種",
        visibility="public",
        updated_on="2021-07-01",
    )
    result = await (await signed.submit(people.organizer, view, values)).json()
    assert texts("faq.form.outcome.updated") in str(result["view"])
    edited = await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)
    assert (edited.question, edited.revision) == ("ワクチンの保管温度（ファイザー社）は？", 2)
    [old] = await faqs.history(db=deps.db, team_id=deps.team_id, faq_id=entry.id)
    assert (old.snapshot["question"], old.edited_by) == (entry.question, people.organizer)
    assert await by_question(signed, entry.question) is None  # renamed, not duplicated
    # The edit button under a result opens the same form.
    answer = await ask(signed, people.organizer, "/faq", "ファイザー 保管温度")
    await click(signed, people.organizer, buttons(answer, EDIT)[0])
    assert slack.open_views(people.organizer)[-1]["private_metadata"] == f"faq:{entry.id}"


async def test_non_organisers_are_refused_whatever_they_send(signed, slack, people, vax):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    entry = await by_question(signed, "ワクチンの保管温度は何度ですか？")
    for text in ("add", f"edit {entry.id}", "auto on"):
        assert texts("faq.admin.not_allowed") in body(await ask(signed, people.member, "/faq", text))
    await click(signed, people.member, {"action_id": EDIT, "value": str(entry.id)})
    assert slack.open_views(people.member) == []
    await ask(signed, people.organizer, "/faq", f"edit {entry.id}")
    [view] = slack.open_views(people.organizer)
    forged = form(question=entry.question, answer="改ざん", visibility="public")
    result = await (await signed.submit(people.member, view, forged)).json()
    assert result == {"response_action": "errors", "errors": {"question": texts("faq.admin.not_allowed")}}
    assert (await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)).answer == entry.answer
    assert await faqs.history(db=deps.db, team_id=deps.team_id, faq_id=entry.id) == []


async def test_weekly_report_posts_gaps_once_per_slot(signed, slack, people, vax):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    scheduler = Scheduler(deps, jobs=[faq_report.JOB])
    monday = datetime(2030, 1, 21, 9, 0, 30, tzinfo=JST)
    deps.clock = lambda: monday
    assert await scheduler.tick(faq_report.JOB, monday) == [(monday.replace(second=0), "done")]  # nothing to say
    for _ in range(3):
        await ask(signed, people.member, "/faq", ODD)
    answer = await ask(signed, people.member, "/faq", "保管温度")
    await click(signed, people.member, buttons(answer, UNHELPFUL)[0])
    later = datetime(2030, 1, 28, 9, 0, 30, tzinfo=JST)
    deps.clock = lambda: later
    assert [o for _, o in await scheduler.tick(faq_report.JOB, later)] == ["done"]
    assert [o for _, o in await scheduler.tick(faq_report.JOB, later)] == ["taken"]
    await faq_report.run(deps, later)  # a second process running the same slot posts nothing more
    await signed.settle()
    reports = [
        m for m in slack.messages(people.admin_channel) if m["text"] == texts("faq.report.fallback", week="2030-W05")
    ]
    assert len(reports) == 1
    text = str(reports[0]["blocks"])
    assert texts("faq.report.unanswered_line", question=safe("駐輪場の申請方法 &lt;!channel&gt;"), count=3) in text
    entry = await by_question(signed, "ワクチンの保管温度は何度ですか？")
    assert texts("faq.report.unhelpful_line", id=entry.id, question=entry.question, helpful=0, unhelpful=1) in text
    assert "faq_report" in {job.name for job in Scheduler(deps).jobs.values()}
    assert [s.isoformat() for s in await faq_report.JOB.slots(deps, monday, later)] == ["2030-01-28T09:00:00+09:00"]
