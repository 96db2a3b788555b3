"""Small portable SQL helpers: INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignore(session: AsyncSession, model, **values):
    """An insert that silently skips rows whose unique key exists: `rowcount == 1` means we claimed it."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).values(**values).on_conflict_do_nothing()


async def claimed(session: AsyncSession, model, **values) -> bool:
    result = await session.execute(insert_ignore(session, model, **values))
    return result.rowcount == 1
