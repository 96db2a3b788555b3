"""0024_search_cleanup: the unused FTS5 table and triggers (SQLite) and trigram indexes (PostgreSQL) go, the
rows of search_docs and the member_counts triggers stay; downgrade brings the old structures back, filled.

SQLite always; PostgreSQL too when YAKUBA_TEST_POSTGRES is set (a database of its own: this test downgrades).
"""

from __future__ import annotations

from sqlalchemy import text

from storage import faqs, migrate
from storage.db import Database

DOC = (
    "INSERT INTO search_docs (team_id, kind, ref_id, q, a, s, scope) VALUES"
    " ('T1', 'faq', 999, ' 保管 管温 温度 ', ' 冷凍 凍庫 ', ' w保管 ', 'zfaqzt1')"
)
SEARCH_TRIGGERS = {"search_docs_ai", "search_docs_ad", "search_docs_au"}
TRGM = {"ix_search_docs_q_trgm", "ix_search_docs_a_trgm", "ix_search_docs_s_trgm"}


async def structures(db: Database) -> tuple[set[str], set[str]]:
    """(search_docs' full-text structures, the other triggers of the database)."""
    async with db.read() as session:
        if db.is_sqlite:
            rows = (await session.execute(text("SELECT type, name FROM sqlite_master"))).all()
            search = {n for t, n in rows if n in SEARCH_TRIGGERS or (t == "table" and n.startswith("search_fts"))}
            others = {n for t, n in rows if t == "trigger" and n not in SEARCH_TRIGGERS}
            return search, others
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'search_docs'"
        search = {n for (n,) in (await session.execute(text(sql))).all() if n in TRGM}
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
        return search, {n for (n,) in (await session.execute(text(sql))).all()}


async def fts_finds(db: Database, token: str) -> int:
    async with db.read() as session:
        if db.is_sqlite:
            sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH :t"
            return (await session.execute(text(sql), {"t": token})).scalar()
        sql = "SELECT count(*) FROM search_docs WHERE q LIKE :t"
        return (await session.execute(text(sql), {"t": f"% {token} %"})).scalar()


async def test_upgrade_drops_only_the_unused_search_structures_and_downgrade_restores_them(database):
    db = database
    await migrate.upgrade(db)
    await migrate.downgrade(db, "0024_search_cleanup@-1")
    async with db.write() as session:
        await session.execute(text(DOC))
    before, triggers = await structures(db)
    # (with FTS5's shadow tables search_fts_data, _idx, …)
    assert before >= ((SEARCH_TRIGGERS | {"search_fts", "search_fts_vocab"}) if db.is_sqlite else TRGM)
    assert triggers  # member_counts' (0019)

    await migrate.upgrade(db)
    assert "0024_search_cleanup" in await migrate.current(db)
    after, kept = await structures(db)
    assert after == set() and kept == triggers
    # Writes and search work without them.
    await faqs.upsert(db=db, team_id="T1", question="接種券の再発行は？", answer="窓口で受け付けます。")
    hits = await faqs.search(db=db, team_id="T1", query="接種券")
    assert [h.faq.question for h in hits] == ["接種券の再発行は？"]

    await migrate.downgrade(db, "0024_search_cleanup@-1")
    assert "0024_search_cleanup" not in await migrate.current(db)
    restored, kept = await structures(db)
    assert restored == before and kept == triggers
    # The FTS5 table is filled again, with the row written while it was gone too.
    assert await fts_finds(db, "保管") == 1 and await fts_finds(db, "接種") == 1
    await migrate.upgrade(db)
    assert (await structures(db))[0] == set()
