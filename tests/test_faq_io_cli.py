"""`yakuba import faqs|archives FILE` and `yakuba export faqs FILE`: report, exit status, round trip."""

from __future__ import annotations

import pytest

from bot.cli.operations import export_file, import_file
from bot.config import OperatorError
from bot.texts import Texts
from storage import archives, faqs
from tests.faq_flow import ARCHIVES, FAQS

BAD = """\
- question: 予約の変更はできますか？
  answer: 予約サイトのマイページから変更できます。
  tags: [予約, 変更]
  updated_on: 2021-06-01
- question: 日付が壊れている行
  answer: x
  updated_on: 2021-13-45
- question: ""
  answer: 質問がない行
- question: URLが壊れている行
  answer: x
  source_url: example.jp/no-scheme
- question: 公開範囲が不明な行
  answer: x
  visibility: everyone
"""


async def test_import_faqs_reports_bad_rows_with_line_numbers(signed, settings, tmp_path, capsys):
    texts = Texts(settings.yakuba_lang)
    path = tmp_path / "faqs.yaml"
    path.write_text(BAD, encoding="utf-8")
    assert await import_file(settings, "faqs", path) == 1
    out = capsys.readouterr().out
    for line in (5, 8, 10, 13):
        assert texts("faq.import.entry", line=line, reason="x").split("x")[0] in out
    assert texts("faq.import.summary", total=5, created=1, updated=0, unchanged=0, errors=4) in out
    deps = signed.yakuba.deps
    assert [f.question for f in await faqs.list_all(db=deps.db, team_id=deps.team_id)] == ["予約の変更はできますか？"]


async def test_import_example_files_then_again_is_idempotent(signed, settings, capsys):
    texts = Texts(settings.yakuba_lang)
    assert await import_file(settings, "faqs", FAQS) == 0
    assert await import_file(settings, "archives", ARCHIVES) == 0
    assert await import_file(settings, "faqs", FAQS) == 0
    out = capsys.readouterr().out
    assert texts("faq.import.summary", total=8, created=8, updated=0, unchanged=0, errors=0) in out
    assert texts("faq.import.summary", total=5, created=5, updated=0, unchanged=0, errors=0) in out
    assert texts("faq.import.summary", total=8, created=0, updated=0, unchanged=8, errors=0) in out
    deps = signed.yakuba.deps
    assert len(await faqs.list_all(db=deps.db, team_id=deps.team_id)) == 8
    assert len(await archives.list_all(db=deps.db, team_id=deps.team_id)) == 5


@pytest.mark.parametrize("suffix", ["yaml", "csv"])
async def test_export_import_export_is_identical(signed, settings, tmp_path, suffix, capsys):
    texts = Texts(settings.yakuba_lang)
    assert await import_file(settings, "faqs", FAQS) == 0
    deps = signed.yakuba.deps
    before = [
        (
            f.id,
            f.question,
            f.answer,
            f.tags,
            f.aliases,
            f.category,
            f.source,
            f.source_url,
            f.updated_on,
            f.visibility,
            f.revision,
        )
        for f in await faqs.list_all(db=deps.db, team_id=deps.team_id)
    ]
    first, second = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    assert await export_file(settings, "faqs", first) == 0
    capsys.readouterr()
    assert await import_file(settings, "faqs", first) == 0
    assert texts("faq.import.summary", total=8, created=0, updated=0, unchanged=8, errors=0) in capsys.readouterr().out
    assert await export_file(settings, "faqs", second) == 0
    assert first.read_bytes() == second.read_bytes()
    after = [
        (
            f.id,
            f.question,
            f.answer,
            f.tags,
            f.aliases,
            f.category,
            f.source,
            f.source_url,
            f.updated_on,
            f.visibility,
            f.revision,
        )
        for f in await faqs.list_all(db=deps.db, team_id=deps.team_id)
    ]
    assert after == before
    assert "ワクチンの保管温度は何度ですか？" in first.read_text("utf-8")


async def test_unreadable_files_fail_cleanly(signed, settings, tmp_path):
    cases = (
        ("faqs.txt", "x", "cli.import.file_type", {"suffix": ".txt"}),
        ("faqs.yaml", "question: [unclosed", "cli.import.bad_yaml", {"line": 1, "column": 11}),
        ("faqs.yaml", "just: a mapping", "cli.import.bad_shape", {}),
    )
    for name, content, key, params in cases:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(OperatorError) as refused:
            await import_file(settings, "faqs", path)
        error = refused.value
        assert (error.key, error.params, error.exit_code) == (key, {"file": str(path), **params}, 1)
    with pytest.raises(OperatorError) as refused:
        await export_file(settings, "faqs", tmp_path / "faqs.txt")
    assert refused.value.key == "cli.import.file_type"
