"""/archive over signed HTTP: recent list, search, the organisers' add form and the one-time 庁内放送 notice."""

from __future__ import annotations

import pytest

from bot.texts.markup import safe
from storage import archives
from tests.faq_flow import HOSTILE, ask, body, form, load_archives


@pytest.fixture
async def loaded(signed) -> None:
    await load_archives(signed)


async def test_recent_list_newest_first_with_links_and_counts(signed, people, loaded):
    texts = signed.yakuba.deps.texts
    answer = await ask(signed, people.member, "/archive")
    assert answer["response_type"] == "ephemeral"
    sections = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"][1:]
    assert sections[0].startswith(texts("archives.item.title", series="自治体DX勉強会", number=1))
    assert sections[1].startswith(texts("archives.item.title", series="ワクチン接種情報交換会", number=7))
    assert f"<https://example.jp/koukankai/07/recording|{texts('archives.item.recording')}>" in sections[1]
    assert f"<https://example.jp/koukankai/07/faq|{texts('archives.item.faq_doc')}>" in sections[1]
    assert texts("archives.item.attendance", count="254") in sections[1]
    assert texts("archives.item.governments", count="163") in sections[1]
    assert texts("archives.item.theme", theme="VRS の運用と訪問接種") in sections[1]


async def test_search_by_series_number_theme_and_reading(signed, people, loaded):
    texts = signed.yakuba.deps.texts
    answer = await ask(signed, people.member, "/archive", "ワクチン")
    assert body(answer).count("ワクチン接種情報交換会") >= 4 and "自治体DX勉強会" not in body(answer)
    seventh = await ask(signed, people.member, "/archive", "ワクチン 第7回")
    first = [b["text"]["text"] for b in seventh["blocks"] if b["type"] == "section"][1]
    assert first.startswith(texts("archives.item.title", series="ワクチン接種情報交換会", number=7))
    assert "予約システムとコールセンター" in body(await ask(signed, people.member, "/archive", "よやく"))
    none = await ask(signed, people.member, "/archive", "宇宙人 <!channel>")
    assert none["text"] == texts("archives.search.none", query=safe("宇宙人 &lt;!channel&gt;"))
    for query in HOSTILE:
        answer = await ask(signed, people.member, "/archive", query)
        assert answer.get("response_type") == "ephemeral" and "<!channel>" not in body(answer)


async def test_empty_archive_list(signed, people):
    texts = signed.yakuba.deps.texts
    assert texts("archives.recent.empty") in body(await ask(signed, people.member, "/archive"))


async def test_organiser_adds_and_announces_once(signed, slack, people):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    await ask(signed, people.organizer, "/archive", "add")
    [view] = slack.open_views(people.organizer)
    bad = form(series="", number="abc", recording_url="javascript:alert(1)", announce=["announce"])
    errors = (await (await signed.submit(people.organizer, view, bad)).json())["errors"]
    assert errors == {
        "series": texts("archives.form.error.required"),
        "number": texts("archives.form.error.not_number"),
        "recording_url": texts("archives.form.error.bad_url"),
    }
    assert await archives.list_all(db=deps.db, team_id=deps.team_id) == []
    good = form(
        series="ワクチン接種情報交換会",
        number="11",
        held_on="2021-09-25",
        theme="3回目接種の準備 <!channel>",
        recording_url="https://example.jp/11/rec",
        faq_doc_url="https://example.jp/11/faq",
        attendance="1,204",
        governments="480",
        announce=["announce"],
    )
    for _ in range(2):  # saved twice with the box ticked: announced once
        result = await (await signed.submit(people.organizer, view, good)).json()
        assert result["response_action"] == "update"
        await signed.settle()
    assert texts("archives.form.announced") in str(result["view"])
    [saved] = await archives.list_all(db=deps.db, team_id=deps.team_id)
    assert (saved.number, saved.attendance, saved.governments) == (11, 1204, 480)
    assert saved.held_on.isoformat() == "2021-09-25"
    [post] = slack.messages(people.broadcast_channel)
    assert post["text"] == texts("archives.announce.fallback", series="ワクチン接種情報交換会", number=11)
    assert "&lt;!channel&gt;" in str(post["blocks"]) and "<!channel>" not in str(post)
    assert "<https://example.jp/11/rec|" in str(post["blocks"])
    # Without the box: saved, not announced.
    quiet = form(series="自治体DX勉強会", number="2", theme="RPA")
    result = await (await signed.submit(people.organizer, view, quiet)).json()
    await signed.settle()
    assert texts("archives.form.announced") not in str(result["view"])
    assert len(slack.messages(people.broadcast_channel)) == 1


async def test_non_organisers_cannot_add_archives(signed, slack, people):
    texts, deps = signed.yakuba.deps.texts, signed.yakuba.deps
    assert texts("archives.admin.not_allowed") in body(await ask(signed, people.member, "/archive", "add"))
    assert slack.open_views(people.member) == []
    await ask(signed, people.organizer, "/archive", "add")
    [view] = slack.open_views(people.organizer)
    forged = form(series="偽のシリーズ", number="1", announce=["announce"])
    result = await (await signed.submit(people.member, view, forged)).json()
    assert result == {"response_action": "errors", "errors": {"series": texts("archives.admin.not_allowed")}}
    await signed.settle()
    assert await archives.list_all(db=deps.db, team_id=deps.team_id) == []
    assert slack.messages(people.broadcast_channel) == []
