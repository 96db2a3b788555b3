"""FAQ and archive repositories: upsert with history, feedback, unanswered log, import/export."""

from __future__ import annotations

from datetime import date

import pytest

from storage import archives, faq_io, faqs
from tests.faq_eval_lib import fresh_db

TEAM = "T1"


@pytest.fixture
async def db(db_url: str):
    database = await fresh_db(db_url)
    yield database
    await database.dispose()


async def test_upsert_by_question_keeps_history(db):
    faq, status = await faqs.upsert(db=db, team_id=TEAM, question="保管温度は？", answer="-70℃", tags=["ワクチン"])
    assert status == "created"
    same, status = await faqs.upsert(db=db, team_id=TEAM, question="保管温度は？", answer="-70℃", tags=["ワクチン"])
    assert (same.id, status) == (faq.id, "unchanged")  # the same question folded: 保管温度は? is this entry too
    edited, status = await faqs.upsert(
        db=db, team_id=TEAM, question="保管温度", answer="-90℃〜-60℃", tags=["ワクチン"], edited_by="U1"
    )
    assert (edited.id, status, edited.revision) == (faq.id, "updated", 2)
    history = await faqs.history(db=db, team_id=TEAM, faq_id=faq.id)
    assert [(h.revision, h.snapshot["answer"], h.edited_by) for h in history] == [(1, "-70℃", "U1")]
    assert (await faqs.get(db=db, team_id=TEAM, faq_id=faq.id)).answer == "-90℃〜-60℃"
    hits = await faqs.search(db=db, team_id=TEAM, query="保管温度")
    assert [h.faq.answer for h in hits] == ["-90℃〜-60℃"]
    assert await faqs.get(db=db, team_id="OTHER", faq_id=faq.id) is None


async def test_upsert_rejects_missing_fields(db):
    with pytest.raises(ValueError):
        await faqs.upsert(db=db, team_id=TEAM, question=" ", answer="x")
    with pytest.raises(ValueError):
        await faqs.upsert(db=db, team_id=TEAM, question="q", answer="a", visibility="everyone")


async def test_categories(db):
    for i, cat in enumerate(["ワクチン接種", "ワクチン接種", "イベント", None]):
        await faqs.upsert(db=db, team_id=TEAM, question=f"質問{i}", answer="a", category=cat)
    assert await faqs.list_categories(db=db, team_id=TEAM) == [("ワクチン接種", 2), ("イベント", 1)]


async def test_feedback_one_vote_per_member_changeable(db):
    faq, _ = await faqs.upsert(db=db, team_id=TEAM, question="予約の方法", answer="a")
    other, _ = await faqs.upsert(db=db, team_id=TEAM, question="接種券の再発行", answer="b")
    assert await faqs.record_feedback(db=db, team_id=TEAM, faq_id=faq.id, user_id="U1", helpful=True) == (1, 0)
    assert await faqs.record_feedback(db=db, team_id=TEAM, faq_id=faq.id, user_id="U1", helpful=True) == (1, 0)
    assert await faqs.record_feedback(db=db, team_id=TEAM, faq_id=faq.id, user_id="U1", helpful=False) == (0, 1)
    assert await faqs.record_feedback(db=db, team_id=TEAM, faq_id=faq.id, user_id="U2", helpful=False) == (0, 2)
    await faqs.record_feedback(db=db, team_id=TEAM, faq_id=other.id, user_id="U1", helpful=False)
    assert [f.id for f in await faqs.least_helpful(db=db, team_id=TEAM)] == [faq.id, other.id]
    with pytest.raises(LookupError):
        await faqs.record_feedback(db=db, team_id="OTHER", faq_id=faq.id, user_id="U1", helpful=True)


async def test_feedback_is_a_small_prior(db):
    a, _ = await faqs.upsert(db=db, team_id=TEAM, question="会場の予約", answer="x")
    b, _ = await faqs.upsert(db=db, team_id=TEAM, question="予約の会場", answer="y")
    for user in ("U1", "U2", "U3", "U4"):
        await faqs.record_feedback(db=db, team_id=TEAM, faq_id=a.id, user_id=user, helpful=False)
        await faqs.record_feedback(db=db, team_id=TEAM, faq_id=b.id, user_id=user, helpful=True)
    hits = await faqs.search(db=db, team_id=TEAM, query="予約 会場")
    assert hits[0].faq.id == b.id


async def test_unanswered_questions_are_counted_without_who_asked(db):
    for q in ("駐車場はありますか？", "駐車場はありますか", "ラーメンのおすすめ"):
        await faqs.log_unanswered(db=db, team_id=TEAM, question=q)
    assert await faqs.log_unanswered(db=db, team_id=TEAM, question=" ？ ") is None
    top = await faqs.top_unanswered(db=db, team_id=TEAM)
    assert [(u.question, u.count) for u in top] == [("駐車場", 2), ("ラーメンのおすすめ", 1)]
    faq, _ = await faqs.upsert(db=db, team_id=TEAM, question="駐車場は？", answer="あります")
    await faqs.resolve_unanswered(db=db, team_id=TEAM, unanswered_id=top[0].id, faq_id=faq.id)
    assert [u.question for u in await faqs.top_unanswered(db=db, team_id=TEAM)] == ["ラーメンのおすすめ"]


GOOD_AND_BAD_CSV = """question,answer,tags,category,source,source_url,updated_on
保管温度は？,-90℃〜-60℃,ワクチン|保管,ワクチン接種,第3回ワクチン接種情報交換会 FAQ,https://example.org/3,2021-05-16
,答えだけ,,,,,
"複数行の
質問",ok,,,,,2021/06/01
接種券の再発行,窓口で,,,,,not-a-date
予約,電話で,,,,ftp://x,
"""


async def test_import_csv_reports_bad_rows_with_line_numbers(db, tmp_path):
    path = tmp_path / "faqs.csv"
    path.write_text(GOOD_AND_BAD_CSV, encoding="utf-8")
    seen: list[tuple[int, int]] = []
    report = await faq_io.import_faqs(db=db, team_id=TEAM, path=path, on_progress=lambda d, t: seen.append((d, t)))
    assert (report.total, report.created) == (5, 2)
    assert [e.line for e in report.errors] == [3, 6, 7]
    assert report.errors[1].key == "faq.import.errors.bad_date"
    assert seen[-1] == (5, 5)
    again = await faq_io.import_faqs(db=db, team_id=TEAM, path=path)
    assert (again.created, again.unchanged) == (0, 2)
    faq = (await faqs.search(db=db, team_id=TEAM, query="保管温度"))[0].faq
    assert faq.tags == ["ワクチン", "保管"] and faq.updated_on == date(2021, 5, 16)


async def test_import_yaml_reports_line_numbers(db, tmp_path):
    path = tmp_path / "faqs.yaml"
    path.write_text(
        "- question: 説明会はいつ？\n  answer: 毎週金曜日\n  tags: [説明会]\n"
        "- question: 空の答え\n  answer: ''\n"
        "- just a string\n",
        encoding="utf-8",
    )
    report = await faq_io.import_faqs(db=db, team_id=TEAM, path=path)
    assert report.created == 1
    assert [e.line for e in report.errors] == [4, 6]


@pytest.mark.parametrize("ext", ["yaml", "csv"])
async def test_export_import_round_trip_is_identical(db, tmp_path, ext):
    from tests.faq_eval_lib import load_entries

    await load_entries(db, team_id=TEAM)
    await faqs.upsert(
        db=db,
        team_id=TEAM,
        question="運営向け",
        answer="*太字* と <https://x.example|リンク>",
        aliases=["別名"],
        visibility="organisers",
        author="U9",
        source_url="https://example.org/a",
    )
    first = tmp_path / f"first.{ext}"
    second = tmp_path / f"second.{ext}"
    n = await faq_io.export_faqs(db=db, team_id=TEAM, path=first)
    report = await faq_io.import_faqs(db=db, team_id="T2", path=first)
    assert (report.created, report.errors) == (n, [])
    again = await faq_io.import_faqs(db=db, team_id="T2", path=first)
    assert again.unchanged == n
    await faq_io.export_faqs(db=db, team_id="T2", path=second)
    assert second.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")


async def test_archives_upsert_search_recent_and_round_trip(db, tmp_path):
    series = "ワクチン接種情報交換会"
    for n, held, theme in [(1, date(2021, 5, 2), "集団接種会場の運営"), (7, date(2021, 6, 13), "VRS と接種記録")]:
        _, status = await archives.upsert(
            db=db,
            team_id=TEAM,
            series=series,
            number=n,
            held_on=held,
            theme=theme,
            recording_url=f"https://example.org/rec/{n}",
            attendance=300,
            governments=120,
        )
        assert status == "created"
    _, status = await archives.upsert(
        db=db,
        team_id=TEAM,
        series=series,
        number=7,
        held_on=date(2021, 6, 13),
        theme="VRS と接種記録",
        recording_url="https://example.org/rec/7",
        attendance=320,
        governments=120,
    )
    assert status == "updated"
    assert [a.number for a in await archives.list_recent(db=db, team_id=TEAM)] == [7, 1]
    assert (await archives.search(db=db, team_id=TEAM, query="第7回"))[0].archive.number == 7
    assert (await archives.search(db=db, team_id=TEAM, query="しゅうだんせっしゅ"))[0].archive.number == 1
    path = tmp_path / "archives.csv"
    await faq_io.export_archives(db=db, team_id=TEAM, path=path)
    report = await faq_io.import_archives(db=db, team_id=TEAM, path=path)
    assert (report.unchanged, report.errors) == (2, [])
    bad = tmp_path / "bad.yaml"
    bad.write_text("- series: x\n  number: abc\n- series: ''\n  number: 1\n", encoding="utf-8")
    report = await faq_io.import_archives(db=db, team_id=TEAM, path=bad)
    assert [e.line for e in report.errors] == [1, 3]


async def test_unknown_file_type_is_a_format_error(db, tmp_path):
    with pytest.raises(faq_io.FormatError):
        await faq_io.import_faqs(db=db, team_id=TEAM, path=tmp_path / "faqs.txt")
