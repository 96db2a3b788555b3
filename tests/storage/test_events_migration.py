"""0022_events: the three tables match the models, go away on downgrade, and come back on upgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage import migrate
from storage.models import Base

TABLES = {"events", "event_signups", "event_surveys"}


async def _tables(db) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))


async def test_upgrade_matches_the_models_and_downgrade_removes_only_the_event_tables(database):
    db = database
    await migrate.upgrade(db)
    assert await _tables(db) >= TABLES
    async with db.engine.connect() as conn:

        def diff(sync_conn):
            found = compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata)
            return [d for d in found if any(name in str(d) for name in TABLES)]

        assert await conn.run_sync(diff) == []
    await migrate.downgrade(db, "0022_events-1")
    left = await _tables(db)
    assert not TABLES & left and {"members", "outbox", "archives"} <= left
    assert "0021_profile_answers" in await migrate.current(db)
    await migrate.upgrade(db)
    assert await _tables(db) >= TABLES
