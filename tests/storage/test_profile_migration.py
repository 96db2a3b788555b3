"""0021_profile_answers: today's members stay intact up and down; the columns match the models.

SQLite always; PostgreSQL too when YAKUBA_TEST_POSTGRES is set (a database of its own: this test downgrades).
"""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from storage import migrate
from storage.db import Database
from storage.models import Base, Member

MINE = ("answers", "consent_version", "consent_at")
MEMBER = (
    "INSERT INTO members (team_id, user_id, status, name, org_type, pref_code, muni_code, department, title,"
    " interests, is_lead, joined_at, created_at, updated_at) VALUES ('T1', 'U1', 'approved', '田中 一郎',"
    " 'municipality', '13', '131016', '総務部', '主査', '[\"防災課\"]', false,"
    " '2026-01-01', '2026-01-01', '2026-01-01')"
)


async def columns(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("members")})


async def test_upgrade_keeps_members_typed_and_downgrade_removes_only_the_new_columns(database):
    db = database
    for before in ("0012_search_words", "0002_membership"):
        await migrate.upgrade(db, before)
    async with db.write() as session:
        await session.execute(text(MEMBER))
    await migrate.upgrade(db)
    assert set(MINE) <= await columns(db)
    async with db.engine.connect() as conn:

        def diff(sync_conn):
            found = compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata)
            return [d for d in found if any(name in str(d) for name in MINE)]

        assert await conn.run_sync(diff) == []
    async with db.read() as session:
        member = (await session.scalars(select(Member))).one()
    assert (member.name, member.org_type, member.pref_code, member.muni_code) == (
        "田中 一郎",
        "municipality",
        "13",
        "131016",
    )
    assert (member.department, member.title, member.interests, member.status) == (
        "総務部",
        "主査",
        ["防災課"],
        "approved",
    )
    assert member.answers == {} and member.consent_version is None and member.consent_at is None

    async with db.write() as session:
        row = (await session.scalars(select(Member))).one()
        row.answers = {"phone": "03-1234-5678"}
    # One step below 0021 on its own line (`rev-1`): revisions built on it (0022_events, 0023_faq_index) go first.
    await migrate.downgrade(db, "0021_profile_answers-1")
    assert "0021_profile_answers" not in await migrate.current(db)
    assert not set(MINE) & await columns(db)
    async with db.read() as session:
        row = (await session.execute(text("SELECT user_id, name, pref_code, department FROM members"))).one()
    assert tuple(row) == ("U1", "田中 一郎", "13", "総務部")
    await migrate.upgrade(db)
    assert set(MINE) <= await columns(db)
