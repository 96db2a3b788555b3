"""Alembic driven from code: `yakuba db upgrade`, and the automatic upgrade when serve/socket start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from storage import member_counts
from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(db: Database, revision: str = "heads") -> None:
    """Upgrade under the database's write lock so two replicas starting together migrate once."""
    cfg = alembic_config(db.url)

    def _run(sync_conn) -> None:
        cfg.attributes["connection"] = sync_conn
        command.upgrade(cfg, revision)

    async with db.write_connection() as conn:
        if not db.is_sqlite:
            await conn.execute(text("SELECT pg_advisory_xact_lock(7366421)"))
        await conn.run_sync(_run)
        await member_counts.ensure_triggers(conn)


async def downgrade(db: Database, revision: str) -> None:
    cfg = alembic_config(db.url)

    def _run(sync_conn) -> None:
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, revision)

    async with db.write_connection() as conn:
        await conn.run_sync(_run)


async def current(db: Database) -> list[str]:
    async with db.read() as session:
        try:
            rows = await session.execute(text("SELECT version_num FROM alembic_version"))
        except Exception:  # noqa: BLE001 - no table yet means no revision yet
            return []
        return sorted(r[0] for r in rows)
