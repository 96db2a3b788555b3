"""Long answers shown whole (#13 point 5): one length contract, sections cut at line ends, "read more" past a
message's room, App Home clipped with a marker, and an edit form that gives back exactly what it was given."""

from __future__ import annotations

import re

import pytest
import yaml

from bot.blocks.faq import MORE, parse_more, rich
from bot.blocks.faq_form import INPUT_MAX
from bot.blocks.home import faq_results
from bot.local import requests as req
from bot.texts import Texts
from storage import faq_io, faqs
from storage.faqs import LIMITS
from tests.faq_flow import ask, buttons, click, form, mention, replies

QUESTION = "接種会場の運営マニュアルの全文は？"
MESSAGE_ROOM = 11_000  # Slack's practical limit for the text of one message's blocks


def long_answer(size: int = 12_000) -> str:
    """Lines with links, ampersands and channel references, and one line far longer than a section."""
    lines, n = [], 0
    while sum(len(x) + 1 for x in lines) < size - 4_200:
        n += 1
        lines.append(f"{n}. 受付・予診&問診は <https://example.jp/manual/{n}|手順{n}> を参照（<#C0ADMIN> で質問可）。")
    lines.append("長い注意書き" + "、".join(f"項目{i}&確認" for i in range(400)))  # about 4,000 characters
    text = "\n".join(lines)
    text += "\n" + "終" * (size - len(text) - 1)
    assert len(text) == size
    return text


async def import_one(signed, tmp_path, answer: str, question: str = QUESTION):
    deps = signed.yakuba.deps
    path = tmp_path / "long.yaml"
    path.write_text(yaml.safe_dump([{"question": question, "answer": answer, "tags": ["マニュアル"]}]), "utf-8")
    report = await faq_io.import_faqs(db=deps.db, team_id=deps.team_id, path=path)
    assert not report.errors and report.created == 1
    return await faqs.find(db=deps.db, team_id=deps.team_id, question=question)


def block_text(message: dict) -> int:
    """Characters of text in a message's blocks, as Slack counts them against its limit."""
    total = 0
    for block in message.get("blocks") or []:
        total += len((block.get("text") or {}).get("text", ""))
        for element in block.get("elements") or []:
            inner = element.get("text")
            total += len(inner.get("text", "") if isinstance(inner, dict) else inner or "")
    return total


def answer_parts(message: dict, heading: str) -> list[str]:
    """The answer's sections of one message (the heading line taken off the first)."""
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    start = next(i for i, t in enumerate(texts) if t.startswith(heading))
    first = texts[start].removeprefix(heading).removeprefix("\n")
    return [t for t in [first, *texts[start + 1 :]] if t]


def whole(text: str) -> bool:
    """No link, channel reference or entity cut in half."""
    return text.count("<") == text.count(">") and not re.search(r"&(?!amp;|lt;|gt;)", text)


async def read_all(signed, user: str, first: dict) -> list[dict]:
    pages = [first]
    while more := buttons(pages[-1], MORE):
        await click(signed, user, more[0])
        pages.append(signed.slack.ephemerals(user)[-1])
        assert len(pages) < 10
    return pages


async def test_a_12000_character_answer_is_shown_whole_across_messages(signed, slack, people, tmp_path):
    texts = signed.yakuba.deps.texts
    answer = long_answer()
    entry = await import_one(signed, tmp_path, answer)
    assert entry.answer == answer
    first = await ask(signed, people.member, "/faq", "運営マニュアル 全文")
    pages = await read_all(signed, people.member, first)
    assert len(pages) >= 2  # 12,000 characters (more once escaped) do not fit one message
    shown = []
    for n, page in enumerate(pages):
        assert block_text(page) <= MESSAGE_ROOM
        heading = texts("faq.results.question" if n == 0 else "faq.results.continued", question=entry.question)
        parts = answer_parts(page, heading)
        assert all(len(p) <= 3000 and whole(p) for p in parts)
        shown += parts
    following = parse_more(buttons(pages[0], MORE)[0]["value"])[1]
    assert texts("faq.results.more_hint", shown=following, total=len(answer)) in str(pages[0])
    # Every character is shown once, in order: only the newlines where a section ends are not repeated.
    assert "".join(shown).replace("\n", "") == rich(answer).replace("\n", "")

    # A mention gets the same answer in its thread, a page at a time.
    channel = slack.add_channel("manual", members=[req.BOT_USER_ID, people.member])["id"]
    event = await mention(signed, people.member, channel, "接種会場の運営マニュアルの全文を見たいです")
    [reply] = replies(signed, channel, event["ts"])
    assert block_text(reply) <= MESSAGE_ROOM and buttons(reply, MORE)


async def test_editing_a_long_answer_keeps_it_byte_for_byte(signed, slack, people, tmp_path):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    answer = long_answer().replace("長い注意書き", "\n長い注意書き").replace("、項目200", "\n項目200")  # lines fit
    entry = await import_one(signed, tmp_path, answer)
    await ask(signed, people.organizer, "/faq", f"edit {entry.id}")
    [view] = slack.open_views(people.organizer)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    parts = [inputs[k] for k in inputs if k == "answer" or k.startswith("answer_")]
    filled = [p for p in parts if p.get("initial_value")]
    assert len(filled) >= 4 and all(len(p["initial_value"]) <= p["max_length"] <= INPUT_MAX for p in parts)
    assert "\n".join(p["initial_value"] for p in filled) == answer
    assert texts("faq.form.answer_parts", count=len(filled)) in str(view)
    values = {k: v.get("initial_value") for k, v in inputs.items() if v.get("initial_value")}
    values["visibility"] = "public"
    result = await (await signed.submit(people.organizer, view, form(**values))).json()
    assert texts("faq.form.outcome.unchanged") in str(result["view"])
    values["tags"] = "マニュアル, 会場"
    result = await (await signed.submit(people.organizer, view, form(**values))).json()
    assert texts("faq.form.outcome.updated") in str(result["view"])
    saved = await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)
    assert saved.answer.encode() == answer.encode() and saved.tags == ["マニュアル", "会場"]


async def test_the_form_grows_an_answer_in_a_spare_input_up_to_the_limit(signed, slack, people, tmp_path):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    answer = "\n".join(["前半" * 1000, "後半" * 1000])
    entry = await import_one(signed, tmp_path, answer)
    await ask(signed, people.organizer, "/faq", f"edit {entry.id}")
    [view] = slack.open_views(people.organizer)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert [k for k in inputs if k.startswith("answer")] == ["answer", "answer_2", "answer_3"]
    assert "initial_value" not in inputs["answer_3"]
    values = {k: v.get("initial_value") for k, v in inputs.items() if v.get("initial_value")}
    values.update(visibility="public", answer_3="追記: 問い合わせは総務課へ。")
    await signed.submit(people.organizer, view, form(**values))
    saved = await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)
    assert saved.answer == answer + "\n追記: 問い合わせは総務課へ。"
    # Five full inputs joined by newlines are over the contract: refused, never cut.
    values.update({f"answer_{n}": "x" * INPUT_MAX for n in range(2, 6)}, answer="x" * INPUT_MAX)
    errors = (await (await signed.submit(people.organizer, view, form(**values))).json()).get("errors")
    assert errors == {"answer": texts("faq.form.error.too_long_total", limit=f"{LIMITS['answer']:,}")}
    assert (await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)).answer == saved.answer


async def test_a_line_longer_than_an_input_is_kept_and_the_form_says_so(signed, slack, people, tmp_path):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    answer = "概要\n" + "長" * 3500 + "\n以上"
    entry = await import_one(signed, tmp_path, answer)
    await ask(signed, people.organizer, "/faq", f"edit {entry.id}")
    [view] = slack.open_views(people.organizer)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert "answer" not in inputs and texts("faq.form.answer_locked") in str(view)
    values = {k: v.get("initial_value") for k, v in inputs.items() if v.get("initial_value")}
    values.update(visibility="public", category="会場運営")
    result = await (await signed.submit(people.organizer, view, form(**values))).json()
    assert texts("faq.form.outcome.updated") in str(result["view"])
    saved = await faqs.get(db=deps.db, team_id=deps.team_id, faq_id=entry.id)
    assert (saved.answer, saved.category) == (answer, "会場運営")


async def test_import_and_form_share_one_maximum(signed, slack, people, tmp_path):
    deps = signed.yakuba.deps
    path = tmp_path / "too_long.yaml"
    rows = [
        {"question": "長すぎる回答", "answer": "あ" * (LIMITS["answer"] + 1)},
        {"question": "q" * (LIMITS["question"] + 1), "answer": "短い"},
        {"question": "ちょうど上限", "answer": "い" * LIMITS["answer"]},
    ]
    path.write_text(yaml.safe_dump(rows), "utf-8")
    report = await faq_io.import_faqs(db=deps.db, team_id=deps.team_id, path=path)
    assert [(e.key, e.params) for e in report.errors] == [
        ("faq.import.errors.too_long", {"field": "answer", "limit": LIMITS["answer"]}),
        ("faq.import.errors.too_long", {"field": "question", "limit": LIMITS["question"]}),
    ]
    assert report.created == 1
    with pytest.raises(ValueError):
        await faqs.upsert(db=deps.db, team_id=deps.team_id, question="直接", answer="う" * (LIMITS["answer"] + 1))


def test_app_home_clips_a_long_answer_with_a_marker():
    texts = Texts("ja")
    answer = "\n".join(f"{i}行目 & <!channel>" for i in range(300))
    view = faq_results(texts, query="長い", hits=[(QUESTION, answer, None, None), ("短い", "短い答え", None, None)])
    long, short = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"][1:]
    assert long.endswith(texts("home.faq_modal.clipped")) and len(long) <= 3000
    assert "<!channel>" not in long and whole(long.removesuffix(texts("home.faq_modal.clipped")))
    assert not short.endswith(texts("home.faq_modal.clipped"))
