"""Storage fixtures: an empty database of its own for the migration tests, which upgrade and downgrade it."""

from __future__ import annotations

import os

import asyncpg
import pytest

from storage.db import Database


@pytest.fixture
async def database(tmp_path):
    """An empty SQLite file; or, when YAKUBA_TEST_POSTGRES is set, a PostgreSQL database of its own (these
    tests downgrade: the suite's shared migrated databases must not be touched)."""
    admin = os.environ.get("YAKUBA_TEST_POSTGRES")
    if not admin:
        db = Database(f"sqlite+aiosqlite:///{tmp_path}/migration.db")
        yield db
        await db.dispose()
        return
    name = f"yakuba_migration_{os.getpid()}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await conn.close()
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    db = Database(f"{base}/{name}")
    yield db
    await db.dispose()
