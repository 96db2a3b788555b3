"""0018_disaster: its tables match the models, and it comes off cleanly; the disaster settings are read."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect as sa_inspect

from bot.config import ConfigError, load_settings
from storage import migrate
from storage.db import Database
from storage.jma import Intensity
from storage.models import Base

MINE = {"disaster_feeds", "disaster_checkins", "disaster_statuses"}


def _about_mine(diff) -> list:
    """Differences naming one of our tables (other branches' tables are theirs to check)."""
    return [entry for entry in diff if any(table in repr(entry) for table in MINE)]


async def test_upgrade_matches_the_models_and_downgrade_removes_the_tables(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    try:
        await migrate.upgrade(database)
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
            tables = await conn.run_sync(lambda c: sa_inspect(c).get_table_names())
        assert set(tables) >= MINE
        assert _about_mine(diff) == []
        await migrate.downgrade(database, "0012_search_words")
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa_inspect(c).get_table_names())
        assert not MINE & set(tables)
    finally:
        await database.dispose()


def test_min_intensity_is_read_as_people_and_jma_write_it():
    assert load_settings(_env_file=None).yakuba_disaster_min_intensity == Intensity.FIVE_LOWER.code
    assert load_settings(_env_file=None, yakuba_disaster_min_intensity="６弱").yakuba_disaster_min_intensity == (
        Intensity.SIX_LOWER.code
    )
    assert load_settings(_env_file=None, yakuba_disaster_min_intensity="5+").yakuba_disaster_min_intensity == (
        Intensity.FIVE_UPPER.code
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, yakuba_disaster_min_intensity="8")
    assert caught.value.key == "cli.config.invalid.yakuba_disaster_min_intensity"
    assert caught.value.params["value"] == "8"
