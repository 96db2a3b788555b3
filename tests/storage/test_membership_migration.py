"""0002_membership: upgrades from the spine, matches the models, and downgrades on its own branch."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage import migrate
from storage.db import Database
from storage.models import Base

MINE = {"prefecture_channels", "approval_requests"}


async def tables(db) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: set(inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade_keeps_members(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    try:
        await migrate.upgrade(db, "0001_spine")
        async with db.write() as session:
            await session.execute(
                text(
                    "INSERT INTO members (team_id, user_id, status, joined_at, created_at, updated_at) "
                    "VALUES ('T1', 'U1', 'joined', '2026-01-01', '2026-01-01', '2026-01-01')"
                )
            )
        await migrate.upgrade(db)
        assert await tables(db) >= MINE
        async with db.engine.connect() as conn:

            def diff(sync_conn):
                found = compare_metadata(
                    MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata
                )
                return [d for d in found if any(name in str(d) for name in (*MINE, "'members'"))]

            assert await conn.run_sync(diff) == []
        async with db.read() as session:
            row = (await session.execute(text("SELECT interests, is_lead FROM members"))).one()
        assert row == ("[]", 0)

        # Downgrading this branch (and what depends on it, e.g. 0006_community) leaves the others alone.
        await migrate.downgrade(db, "0002_membership@-1")
        assert "0002_membership" not in await migrate.current(db)
        async with db.engine.connect() as conn:
            columns = await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("members")})
        assert not await tables(db) & MINE and "pref_code" not in columns
        assert "faqs" in await tables(db)
        async with db.read() as session:
            assert (await session.execute(text("SELECT user_id FROM members"))).scalars().all() == ["U1"]
        await migrate.upgrade(db)
        assert await tables(db) >= MINE
    finally:
        await db.dispose()
