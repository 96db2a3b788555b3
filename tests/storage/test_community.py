"""Community storage: the 0006 migration (up, down, matches the models), the sections import, fuzzy matching."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect as sa_inspect

from storage import migrate, sections
from storage.db import Database
from storage.models import Base
from storage.section_io import import_sections

EXAMPLE = Path(__file__).resolve().parents[2] / "storage" / "data" / "sections.example.yaml"
TEAM = "T0COMMUNITY"
# ix_members_directory and ix_members_approved_at are 0006's too, but 0019 drops them (the models describe the head).
MINE = {"sections", "section_members"}


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}")
    await migrate.upgrade(database)
    yield database
    await database.dispose()


def _mine(diff) -> list:
    out = []
    for entry in diff:
        for item in entry if isinstance(entry, list) else [entry]:
            names = {getattr(x, "name", None) for x in item[1:] if hasattr(x, "name")}
            if names & MINE:
                out.append(item)
    return out


async def test_migration_matches_models_and_downgrades(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'mig.db'}")
    try:
        await migrate.upgrade(database, "0006_community")
        async with database.engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
            tables = await conn.run_sync(lambda c: sa_inspect(c).get_table_names())
        assert {"sections", "section_members", "members"} <= set(tables)
        assert _mine(diff) == []
        await migrate.downgrade(database, "0001_spine")
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa_inspect(c).get_table_names())
            indexes = await conn.run_sync(lambda c: {i["name"] for i in sa_inspect(c).get_indexes("members")})
        assert "sections" not in tables and "section_members" not in tables
        assert not indexes & MINE and "members" in tables
        await migrate.upgrade(database)
    finally:
        await database.dispose()


async def test_import_is_idempotent(db):
    first = await import_sections(db=db, team_id=TEAM, path=EXAMPLE)
    assert first.ok and len(first.created) == 10
    again = await import_sections(db=db, team_id=TEAM, path=EXAMPLE)
    assert again.ok and len(again.unchanged) == 10 and not again.created
    assert len(await sections.active_sections(db, team_id=TEAM)) == 10


async def test_bad_rows_are_reported_with_line_numbers_and_good_ones_saved(db, tmp_path):
    path = tmp_path / "sections.yaml"
    path.write_text(
        "sections:\n"
        "  - name: 写真部\n"
        "    kind: 趣味型\n"
        "  - name: 謎の課\n"
        "    kind: 宇宙型\n"
        "  - kind: work\n"
        "  - name: 防災課\n"
        "    kind: work\n"
        "    leads: [tanaka]\n"
        "    channel: no-such-channel\n",
        "utf-8",
    )
    seen = []
    report = await import_sections(db=db, team_id=TEAM, path=path, on_progress=lambda d, t: seen.append((d, t)))
    assert report.created == ["写真部"] and seen[-1] == (4, 4)
    assert [(line, [p.key for p in problems]) for line, _, problems in report.errors] == [
        (4, ["bad_kind"]),
        (6, ["missing"]),
        (7, ["unknown_channel", "bad_lead"]),
    ]


async def test_csv_import_with_channel_names(db, tmp_path):
    path = tmp_path / "sections.csv"
    path.write_text(
        "\ufeffname,kind,kana,aliases,channel,leads\n"
        "ライティング課,スキルアップ型,らいてぃんぐか,writing|文章,#writing,U0LEAD1\n"
        "変な課,???,,,,\n",
        "utf-8",
    )
    report = await import_sections(db=db, team_id=TEAM, path=path, resolve_channel={"writing": "C0WRITE"}.get)
    assert report.created == ["ライティング課"] and [e[0] for e in report.errors] == [3]
    [row] = await sections.active_sections(db, team_id=TEAM)
    assert (row.channel_id, row.leads, row.aliases) == ("C0WRITE", ["U0LEAD1"], ["writing", "文章"])
    assert sections.match([row], "ぶんしょう").section is None
    assert sections.match([row], "Writing").section is row
    assert sections.match([row], "ﾗｲﾃｨﾝｸﾞ").section is row


async def test_unreadable_file_is_one_error(db, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("sections: [unclosed\n", "utf-8")
    report = await import_sections(db=db, team_id=TEAM, path=path)
    assert report.file_error is not None and report.file_error.key == "cli.import.bad_yaml"
    assert report.file_error.params == {"line": 1, "column": 11}  # where the bracket was opened


async def test_cli_import_sections_and_export_members(tmp_path, slack, settings, capsys):
    """`yakuba import sections FILE` (online: channel names resolved) then again (unchanged), exit statuses."""
    from bot.cli.operations import export_file, import_file

    writing = slack.add_channel("writing")["id"]
    path = tmp_path / "sections.yaml"
    path.write_text(
        "sections:\n  - {name: ライティング課, kind: スキルアップ型, channel: '#writing'}\n"
        "  - {name: 謎の課, kind: 宇宙型}\n",
        "utf-8",
    )
    assert await import_file(settings, "sections", path) == 1
    out = capsys.readouterr().out
    assert "2" in out and "宇宙型" in out
    path.write_text("sections:\n  - {name: ライティング課, kind: スキルアップ型, channel: '#writing'}\n", "utf-8")
    assert await import_file(settings, "sections", path) == 0
    database = Database(settings.database_url)
    try:
        [row] = await sections.active_sections(database, team_id="T0LOCAL")
        assert row.channel_id == writing
    finally:
        await database.dispose()
    target = tmp_path / "members.csv"
    assert await export_file(settings, "members", target) == 0
    assert target.read_bytes().startswith("\ufeffuser_id,status".encode())
