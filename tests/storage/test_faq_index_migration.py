"""0023_faq_index: indexed rows keep their tokens up and down; the new table and column match the models.

SQLite always; PostgreSQL too when YAKUBA_TEST_POSTGRES is set (a database of its own: this test downgrades).
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage import faqs, migrate
from storage.db import Database
from storage.models import Base

DOC = (
    "INSERT INTO search_docs (team_id, kind, ref_id, q, a, s, scope) VALUES"
    " ('T1', 'faq', 999, ' 保管 管温 温度 ', ' 冷凍 凍庫 ', ' w保管 ', 'zfaqzt1')"
)


async def tables_and_columns(db: Database) -> tuple[set[str], set[str]]:
    async with db.engine.connect() as conn:

        def look(sync_conn):
            found = inspect(sync_conn)
            return set(found.get_table_names()), {c["name"] for c in found.get_columns("search_docs")}

        return await conn.run_sync(look)


async def fts_triggers(db: Database) -> int:
    """SQLite's FTS5 triggers on search_docs (0004; 0024 drops them): a migration that rebuilt the table would
    lose them."""
    if not db.is_sqlite:
        return 0
    async with db.read() as session:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'search_docs'"
        return (await session.execute(text(sql))).scalar()


async def test_upgrade_stamps_old_rows_at_generation_zero_and_downgrade_removes_only_the_new_parts(database):
    db = database
    await migrate.upgrade(db, "0021_profile_answers")
    async with db.write() as session:
        await session.execute(text(DOC))
    await migrate.upgrade(db)
    tables, columns = await tables_and_columns(db)
    assert "search_generations" in tables and "version" in columns
    assert await fts_triggers(db) == 0  # 0024_search_cleanup
    async with db.engine.connect() as conn:

        def diff(sync_conn):
            found = compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata)
            mine = ("search_generations", "'version'", "ix_search_docs_changed")
            return [d for d in found if any(name in str(d) for name in mine)]

        assert await conn.run_sync(diff) == []
    async with db.read() as session:
        row = (await session.execute(text("SELECT q, version FROM search_docs"))).one()
        generations = (await session.execute(text("SELECT count(*) FROM search_generations"))).scalar()
    assert tuple(row) == (" 保管 管温 温度 ", 0) and generations == 0

    # Writes stamp their rows with the team's next generation.
    await faqs.upsert(db=db, team_id="T1", question="接種券の再発行は？", answer="窓口で受け付けます。")
    async with db.read() as session:
        stamped = (await session.execute(text("SELECT version FROM search_docs WHERE ref_id <> 999"))).scalar()
        gen = (await session.execute(text("SELECT generation, resets FROM search_generations"))).one()
    assert stamped == 1 and tuple(gen) == (1, 0)

    await migrate.downgrade(db, "0022_events")
    assert "0023_faq_index" not in await migrate.current(db)
    tables, columns = await tables_and_columns(db)
    assert "search_generations" not in tables and "version" not in columns
    assert await fts_triggers(db) == (3 if db.is_sqlite else 0)  # 0024 put them back, 0023 kept them
    async with db.read() as session:
        kept = (await session.execute(text("SELECT q FROM search_docs WHERE ref_id = 999"))).scalar()
    assert kept == " 保管 管温 温度 "
    await migrate.upgrade(db)
    assert "version" in (await tables_and_columns(db))[1]
