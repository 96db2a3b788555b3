"""Japanese search: folding, readings, typos, paraphrases, narrowing, and hostile input."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import event, text

from storage import faqs
from storage.db import Database
from storage.migrate import MIGRATIONS
from storage.search import normalize as nz
from storage.search import unindex
from storage.search.analyzer import query_terms
from storage.search.engine import INDEXES
from storage.search.query import plan
from tests.faq_eval_lib import fresh_db

# What handlers/faq.py shows (commands, mentions and DMs) at all (a hit under it is not worth showing).
RELEVANT = 0.3

TEAM = "T1"
ENTRIES = [
    ("ワクチンの保管温度は何度ですか？", "超低温冷凍庫で -90℃〜-60℃ で保管します。", ["ワクチン", "保管"], []),
    ("接種予約の方法は？", "予約システムか電話で受け付けます。", ["予約"], []),
    ("接種券を紛失したら？", "窓口で再発行します。", ["接種券"], []),
    ("防災訓練の企画事例は？", "避難所開設訓練の資料があります。", ["防災"], []),
    ("テレワークの導入事例は？", "VPN とモバイル端末を使います。", [], ["在宅勤務"]),
    ("転居したときの届け出は？", "住所は登録していないので不要です。", [], []),
    ("余ったワクチンの廃棄を減らすには？", "キャンセル待ちリストを作ります。", [], []),
    ("ワクチン接種会場の予約受付の体制は？", "受付に職員を配置し、予約の確認をします。", [], []),
]


@pytest.fixture
async def db(db_url: str):
    database = await fresh_db(db_url)
    for q, a, tags, aliases in ENTRIES:
        await faqs.upsert(db=database, team_id=TEAM, question=q, answer=a, tags=tags, aliases=aliases)
    yield database
    await database.dispose()


async def top(db: Database, query: str, n: int = 1) -> list[str]:
    return [h.faq.question for h in await faqs.search(db=db, team_id=TEAM, query=query, limit=n)]


def test_fold_width_case_kana_and_long_vowels():
    assert nz.fold("ＡＢＣ１２３") == "abc123"
    assert nz.fold("ｾｯｼｭｹﾝ") == nz.fold("セッシュケン") == "せっしゅけん"
    assert nz.fold("サーバー") == nz.fold("サーバ")
    assert nz.loose("ぼうさい") == nz.loose("ボーサイ") == "ぼさい"


def test_question_endings_are_removed():
    assert nz.strip_question("保管温度は？") == "保管温度"
    assert nz.strip_question("予約について教えてください。") == "予約"
    assert nz.strip_question("接種券はありますか?") == "接種券"
    assert nz.key("保管温度は？") == nz.key("保管温度")


def test_romaji_becomes_hiragana_only_when_plausible():
    assert nz.romaji_to_hiragana("bousai") == "ぼうさい"
    assert nz.romaji_to_hiragana("wakuchin") == "わくちん"
    assert nz.romaji_to_hiragana("sesshu") == "せっしゅ"
    assert nz.romaji_to_hiragana("zoom") is None
    assert nz.loose(nz.romaji_to_hiragana("bosai")) == nz.loose("ぼうさい")


def test_query_terms_drop_particles_and_chatter():
    surfaces = [t.surface for t in query_terms("ワクチンを冷凍庫で保管するときの温度って何度くらいでしたっけ？")]
    assert "わくちん" in surfaces and "冷凍庫" in surfaces and "温度" in surfaces
    assert all(s not in surfaces for s in ("を", "とき", "くらい"))


@pytest.mark.parametrize("query", ["ぼうさい", "ボウサイ", "bousai", "bosai", "ﾎﾞｳｻｲ"])
async def test_reading_finds_kanji(db, query):
    assert await top(db, query) == ["防災訓練の企画事例は？"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hokan", "ワクチンの保管温度は何度ですか？"),
        ("wakuchin hokan", "ワクチンの保管温度は何度ですか？"),
        ("sesshuken", "接種券を紛失したら？"),
    ],
)
async def test_romaji_queries(db, query, expected):
    assert await top(db, query) == [expected]


async def test_two_character_words(db):
    assert (await top(db, "予約"))[0] in ("接種予約の方法は？", "ワクチン接種会場の予約受付の体制は？")
    assert await top(db, "廃棄") == ["余ったワクチンの廃棄を減らすには？"]


async def test_typo_is_tolerated(db):
    assert await top(db, "防災訓連") == ["防災訓練の企画事例は？"]


async def test_paraphrase_by_alias_and_by_synonym_dictionary(db):
    assert await top(db, "在宅勤務") == ["テレワークの導入事例は？"]  # organiser-edited alias
    assert await top(db, "引っ越し") == ["転居したときの届け出は？"]  # Sudachi synonym group, no list
    assert await top(db, "ワクチンを捨てない工夫") == ["余ったワクチンの廃棄を減らすには？"]


async def test_several_words_narrow(db):
    assert await top(db, "会場 予約") == ["ワクチン接種会場の予約受付の体制は？"]
    assert await top(db, "ワクチン 保管") == ["ワクチンの保管温度は何度ですか？"]


async def test_confidence_separates_answers_from_guesses(db):
    good = await faqs.search(db=db, team_id=TEAM, query="保管温度は？")
    assert good[0].confident and 0 <= good[0].confidence <= 1
    for unrelated in ("ラーメンのおすすめ", "駐車場の料金", "今日の天気"):
        hits = await faqs.search(db=db, team_id=TEAM, query=unrelated)
        assert not hits or not hits[0].confident, unrelated


LONG_DM = (
    "来週から集団接種が始まるので、届いたワクチンの受け入れ準備をしています。"
    "超低温冷凍庫が一台しかないのですが、保管温度は何度にしておけばいいのか教えてもらえますか？"
)


async def test_a_long_question_with_one_clear_match_is_confident(db):
    hits = await faqs.search(db=db, team_id=TEAM, query=LONG_DM)
    assert hits[0].faq.question == "ワクチンの保管温度は何度ですか？"
    assert hits[0].score >= RELEVANT and hits[0].confident
    short = await faqs.search(db=db, team_id=TEAM, query="保管温度")
    # The extra words of the DM cost nothing: it scores at least as well as the keyword alone, less a little.
    assert hits[0].score >= short[0].score - 0.25


async def test_an_ambiguous_question_is_not_confident(db):
    # Two entries are about 予約 and the question says nothing that tells them apart.
    hits = await faqs.search(db=db, team_id=TEAM, query="予約はどうしていますか？")
    assert {h.faq.question for h in hits[:2]} == {"接種予約の方法は？", "ワクチン接種会場の予約受付の体制は？"}
    assert not hits[0].confident


async def test_a_kanji_typo_is_found_by_its_reading_but_not_answered(db):
    hits = await faqs.search(db=db, team_id=TEAM, query="接種県")  # せっしゅけん, not 接種券
    assert hits[0].faq.question == "接種券を紛失したら？"
    assert not hits[0].confident


def _run_revision(sync_conn, name: str) -> None:
    """One revision's upgrade() on its own: with several branches on the spine, rewinding alembic_version to
    re-run one revision would overlap the others."""
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / "versions" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Operations.context(MigrationContext.configure(sync_conn)):
        module.upgrade()


async def test_entries_indexed_before_content_words_are_found_and_migrated(db):
    # As an index written before the meaning tokens looks. Revision 0016 re-derives them (as 0012 first did,
    # now with the core dictionary's synonym groups), so the database is put back to just before 0016.
    async with db.write() as session:
        await session.execute(text("UPDATE search_docs SET s = ' '"))
        await session.execute(text("DROP TABLE faq_askers"))
    hits = await faqs.search(db=db, team_id=TEAM, query=LONG_DM)
    assert hits[0].faq.question == "ワクチンの保管温度は何度ですか？"
    async with db.write_connection() as conn:  # revision 0016 on its own: other branches hang off 0012 too
        await conn.run_sync(_run_revision, "0016_faq_aliases")
    # Migrations run before the app starts, so the next search is a fresh process's (its index built anew).
    restarted = Database(db.url)
    try:
        async with restarted.read() as session:
            s = await session.scalar(
                text(
                    "SELECT d.s FROM search_docs d JOIN faqs f ON f.id = d.ref_id"
                    " WHERE f.question LIKE 'ワクチンの保管%'"
                )
            )
        assert {"w保管", "w温度", "wわくちん"} <= set(s.split())
        hits = await faqs.search(db=restarted, team_id=TEAM, query=LONG_DM)
        assert hits[0].faq.question == "ワクチンの保管温度は何度ですか？" and hits[0].confident
    finally:
        await restarted.dispose()


HOSTILE = [
    '"',
    '""',
    "*",
    "NEAR(",
    "NEAR(a b",
    "OR",
    "AND",
    "NOT",
    "a OR b",
    '"ワクチン" OR *',
    "^予約",
    "col:予約",
    "s : s1",
    "(",
    ")",
    "{q a}:予約",
    "-",
    "+",
    "'",
    "\\",
    "%",
    "_",
    "\x00\x01\x1f",
    "\u200b",
    "🙏🏻",
    "💉 ワクチン",
    "",
    "   ",
    "？",
    "あ" * 5000,
    "ワクチン " * 1000,
    "x" * 5000,
    "予約" + "\n" * 50,
]


async def test_hostile_queries_never_error(db):
    for query in HOSTILE:
        hits = await faqs.search(db=db, team_id=TEAM, query=query)
        assert isinstance(hits, list), query
        assert all(0 <= h.confidence <= 1 for h in hits), query
    # the engine itself, below the repository, never sees FTS syntax either
    assert len(await top(db, '"予約" OR NEAR(予約 会場)', 3)) >= 1


def test_query_syntax_is_only_text():
    # What FTS5 would have read as operators are words or nothing here: no plan carries them as syntax.
    assert {t.term.surface for t in plan('NEAR("x" OR y*) AND').terms} <= {"near", "x", "or", "y", "and"}
    for p in (plan('"'), plan("*"), plan("OR AND")):
        assert all(x.strip('"*()') for x in p.tokens())


async def test_teams_do_not_see_each_other(db):
    assert await faqs.search(db=db, team_id="OTHER", query="予約") == []


async def test_visibility_filters_results(db):
    await faqs.upsert(db=db, team_id=TEAM, question="運営専用の連絡網は？", answer="…", visibility="organisers")
    assert await top(db, "連絡網") == []
    hits = await faqs.search(db=db, team_id=TEAM, query="連絡網", visibilities=("public", "members", "organisers"))
    assert hits[0].faq.question == "運営専用の連絡網は？"


async def test_small_team_is_not_starved_by_a_big_one(db):
    for i in range(260):  # more than one candidate batch of another team's matches
        await faqs.upsert(db=db, team_id="BIG", question=f"予約の受付{i}番", answer="予約は電話で")
    assert set(await top(db, "予約", 2)) == {"接種予約の方法は？", "ワクチン接種会場の予約受付の体制は？"}
    assert len(await faqs.search(db=db, team_id="BIG", query="予約", limit=3)) == 3


async def test_a_long_dm_with_words_no_entry_holds_still_narrows_among_many(db):
    # The entry is the team's oldest; 150 newer entries share the DM's common word 予約. Words no entry holds
    # (説明会, 冷凍庫の設定) must not make every narrowing step empty, which left only the newest 予約 entries.
    for i in range(150):
        await faqs.upsert(db=db, team_id=TEAM, question=f"予約の受付{i}番", answer="予約は電話で受け付けます。")
    dm = (
        "来週の説明会で予約のことも聞かれそうですが、"
        "まずワクチンの保管温度を確認したいです。冷凍庫の設定はどうしていますか"
    )
    assert await top(db, dm) == ["ワクチンの保管温度は何度ですか？"]


async def test_another_replicas_writes_are_seen_by_the_next_search(db, db_url, monkeypatch):
    # Two processes on one database: each keeps its own in-memory index, caught up by the team's generation
    # (read before every search here; in production at most every INDEXES.recheck_after seconds).
    monkeypatch.setattr(INDEXES, "recheck_after", 0.0)
    monkeypatch.setattr(INDEXES, "touch_after_commit", lambda *_args: None)  # as if written by another process
    other = Database(db_url)
    try:
        assert await top(db, "保管温度") == ["ワクチンの保管温度は何度ですか？"]
        assert await top(other, "保管温度") == ["ワクチンの保管温度は何度ですか？"]
        faq = await faqs.find(db=other, team_id=TEAM, question="ワクチンの保管温度は何度ですか？")
        await faqs.update(
            db=other, team_id=TEAM, faq_id=faq.id, question="ワクチンの輸送方法は？", answer="保冷バッグで運びます。"
        )
        await faqs.upsert(db=other, team_id=TEAM, question="集団接種の駐車場は？", answer="市役所の駐車場を使います。")
        assert await top(db, "輸送方法") == ["ワクチンの輸送方法は？"]
        assert await top(db, "保管温度") != ["ワクチンの保管温度は何度ですか？"]
        assert await top(db, "駐車場") == ["集団接種の駐車場は？"]
        # A document removed by the other process is gone here too (a deletion rebuilds the index).
        async with other.write() as session:
            await unindex(session, team_id=TEAM, kind="faq", ref_id=faq.id)
        assert "ワクチンの輸送方法は？" not in await top(db, "輸送方法", 3)
        assert await top(db, "駐車場") == ["集団接種の駐車場は？"]
    finally:
        await other.dispose()


def _search_reads(db: Database, statements: list[str]):
    def seen(_conn, _cursor, statement, *_args) -> None:
        if "search_" in statement:
            statements.append(statement)

    return seen


@pytest.mark.parametrize("recheck_after", [0.0, 3600.0])
async def test_a_search_reads_at_most_the_generation_when_nothing_changed(db, monkeypatch, recheck_after):
    monkeypatch.setattr(INDEXES, "recheck_after", recheck_after)
    await top(db, "予約")
    reads: list[str] = []
    seen = _search_reads(db, reads)
    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await top(db, "予約")
        if recheck_after:  # read a moment ago: not even the generation
            assert reads == []
            # ... but a write of this process is seen at once.
            await faqs.upsert(db=db, team_id=TEAM, question="予約の変更は？", answer="電話で受け付けます。")
            reads.clear()
            assert "予約の変更は？" in await top(db, "予約の変更", 3)
            assert any("FROM search_generations" in r for r in reads), reads
        else:
            assert len(reads) == 1 and "FROM search_generations" in reads[0], reads
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)


async def test_a_burst_of_first_searches_builds_the_index_once(db, monkeypatch):
    builds: list[int] = []
    real = INDEXES._caught_up

    async def counted(*args, **kwargs):
        builds.append(1)
        return await real(*args, **kwargs)

    monkeypatch.setattr(INDEXES, "_caught_up", counted)
    results = await asyncio.gather(*(top(db, "予約") for _ in range(8)))
    assert builds == [1]
    assert all(r == results[0] and r for r in results)
