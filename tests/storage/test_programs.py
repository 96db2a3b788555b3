"""storage.programs + storage.program_io: the 庁内放送 catalogue, its import and subscriptions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import inspect as sa_inspect

from storage import migrate
from storage import programs as repo
from storage.db import Database
from storage.program_io import export_programs, import_programs

pytestmark = pytest.mark.asyncio

EXAMPLE = Path(__file__).resolve().parents[2] / "storage" / "data" / "programs.example.yaml"
KNOWN_USERS = {f"U0EXAMPLE{i}" for i in range(1, 7)}


@pytest_asyncio.fixture
async def db(db_url):
    database = Database(db_url)
    await migrate.upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
def team() -> str:
    """A fresh team id per test: on a shared PostgreSQL database no test sees another's rows."""
    return f"T0{uuid.uuid4().hex[:10].upper()}"


@pytest.fixture
def other() -> str:
    return f"T1{uuid.uuid4().hex[:10].upper()}"


class Users:
    """A fake Slack users.info: counts how often each id is asked about."""

    def __init__(self, known=KNOWN_USERS):
        self.known, self.asked = set(known), []

    async def __call__(self, user_id: str) -> bool:
        self.asked.append(user_id)
        return user_id in self.known


async def _import(db, source, team, **kwargs):
    return await import_programs(db=db, team_id=team, source=source, user_exists=Users(), **kwargs)


async def test_example_file_imports_and_reimport_changes_nothing(db, team):
    progress: list[tuple[int, int]] = []
    users = Users()
    report = await import_programs(
        db=db,
        team_id=team,
        source=EXAMPLE,
        user_exists=users,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert report.ok and report.total == 6
    assert report.created == ["photo-labo", "ohayo", "vaccine", "writing-ka", "night-study", "nenmatsu-special"]
    assert progress == [(i, 6) for i in range(7)]
    assert sorted(users.asked) == sorted(KNOWN_USERS)  # each user asked once, however often hosted

    again = await _import(db, EXAMPLE, team)
    assert again.ok and again.created == [] and again.updated == [] and len(again.unchanged) == 6
    assert len(await repo.list_programs(db=db, team_id=team)) == 6

    edited = EXAMPLE.read_text(encoding="utf-8").replace("duration: 15", "duration: 20")
    third = await _import(db, edited, team)
    assert third.updated == ["ohayo"] and len(third.unchanged) == 5
    ohayo = await repo.get_program(db=db, team_id=team, name="ohayo")
    assert ohayo.duration_min == 20 and ohayo.recurrence.holidays == "skip"


async def test_bad_entries_are_reported_with_line_and_nothing_of_them_is_saved(db, team):
    await _import(db, EXAMPLE, team)
    text = """\
programs:
  - name: good
    title: 良い番組
    start: 21:30
    duration: 30
    recurrence: daily
  - name: ohayo
    title: おはよう庁内放送
    start: "25:00"
    duration: 15
    recurrence: {kind: weekly, weekdays: [mon, funday]}
  - title: 終わりが先
    start: "10:00"
    duration: 0
    recurrence: {kind: daily, start_date: 2026-12-01, end_date: 2026-11-01}
  - title: 知らない人
    personalities: [U0NOBODY, U0EXAMPLE1]
    start: "10:00"
    duration: 30
    recurrence: {kind: biweekly, weekdays: sat}
    stream_url: javascript:alert(1)
  - title: 重複
    name: GOOD
    start: "10:00"
    duration: 30
    recurrence: daily
  - just a string
"""
    report = await _import(db, text, team)
    assert report.created == ["good"] and not report.ok
    errors = {e.index: (e.line, e.name, [tuple(p) for p in e.problems]) for e in report.errors}
    assert errors == {
        2: (
            7,
            "ohayo",
            [("programs.error.bad_time", {"value": "25:00"}), ("programs.error.bad_weekday", {"value": "funday"})],
        ),
        3: (
            12,
            "終わりが先",
            [
                ("programs.error.bad_duration", {"value": "0"}),
                ("programs.error.date_order", {"start_date": "2026-12-01", "end_date": "2026-11-01"}),
            ],
        ),
        4: (
            16,
            "知らない人",
            [
                ("programs.error.missing_anchor", {}),
                ("programs.error.bad_url", {"field": "stream_url", "value": "javascript:alert(1)"}),
                ("programs.error.unknown_user", {"user": "U0NOBODY"}),
            ],
        ),
        5: (22, "GOOD", [("programs.error.duplicate_name", {"name": "GOOD", "index": 1})]),
        6: (27, None, [("programs.error.not_a_mapping", {})]),
    }
    good = await repo.get_program(db=db, team_id=team, name="good")
    assert good.start_time.hour == 21 and good.start_time.minute == 30  # unquoted 21:30 is a time
    ohayo = await repo.get_program(db=db, team_id=team, name="ohayo")
    assert ohayo.duration_min == 15 and ohayo.start_time.hour == 7  # the bad entry changed nothing


async def test_unknown_users_and_unknown_fields_are_refused(db, team):
    text = """\
- title: 知らない人
  personalities: [U0NOBODY, "<@U0EXAMPLE1>", nobody]
  personalites: [U0EXAMPLE1]
  start: "10:00"
  duration: 30
  recurrence: daily
"""
    report = await _import(db, text, team)
    (error,) = report.errors
    assert error.line == 1 and [tuple(p) for p in error.problems] == [
        ("programs.error.unknown_field", {"field": "personalites"}),
        ("programs.error.bad_user", {"value": "nobody"}),
        ("programs.error.unknown_user", {"user": "U0NOBODY"}),
    ]
    fixed = text.replace("  personalites: [U0EXAMPLE1]\n", "").replace(", nobody", "")
    (error,) = (await _import(db, fixed, team)).errors
    assert [tuple(p) for p in error.problems] == [("programs.error.unknown_user", {"user": "U0NOBODY"})]
    assert await repo.list_programs(db=db, team_id=team) == []


async def test_unreadable_files(db, team):
    bad = await _import(db, "programs:\n  - title: [unclosed\n", team)
    assert bad.file_error.key == "cli.import.bad_yaml" and bad.file_error.params["line"] == 2
    assert (await _import(db, "programs: 42\n", team)).file_error.key == "cli.import.bad_shape"
    empty = await _import(db, "# nothing yet\n", team)
    assert empty.ok and empty.total == 0


async def test_lookup_by_name_is_forgiving_but_not_ambiguous(db, team, other):
    await _import(db, EXAMPLE, team)

    async def get(name):
        found = await repo.get_program(db=db, team_id=team, name=name)
        return found.name if found else None

    assert await get("PHOTO-LABO") == "photo-labo"
    assert await get("ｐｈｏｔｏ　ｌａｂｏ") == "photo-labo"
    assert await get("photo") == "photo-labo"
    assert await get("わくちん") == "vaccine"  # hiragana finds katakana
    assert await get("ワクチン接種情報交換会") == "vaccine"
    assert await get("庁内") == "ohayo"  # the one title that contains it
    assert await get("nothing like it") is None
    candidates = await repo.find_programs(db=db, team_id=team, query="e")
    assert len(candidates) > 1 and await get("e") is None
    assert await repo.get_program(db=db, team_id=other, name="photo-labo") is None


async def test_pause_resume_and_line_ups(db, team, other):
    await _import(db, EXAMPLE, team)
    day = date(2026, 11, 28)  # Saturday: the vaccine session of 隔週土曜
    names = [o.programme.name for o in await repo.lineup(db=db, team_id=team, day=day)]
    assert names == ["vaccine", "night-study"]
    vaccine = await repo.get_program(db=db, team_id=team, name="vaccine")
    assert await repo.pause_program(db=db, team_id=team, program_id=vaccine.id)
    assert [o.programme.name for o in await repo.lineup(db=db, team_id=team, day=day)] == ["night-study"]
    assert len(await repo.list_programs(db=db, team_id=team)) == 5
    assert len(await repo.list_programs(db=db, team_id=team, active_only=False)) == 6
    assert not await repo.pause_program(db=db, team_id=other, program_id=vaccine.id)
    assert await repo.resume_program(db=db, team_id=team, program_id=vaccine.id)

    week = await repo.occurrences_between(
        db=db,
        team_id=team,
        start=datetime(2026, 11, 22, 15, tzinfo=UTC),
        end=datetime(2026, 11, 29, 15, tzinfo=UTC),  # Mon 11-23 .. Sun 11-29 JST
    )
    starts = [o.start for o in week]
    assert starts == sorted(starts)
    assert [o.local_date for o in week if o.programme.name == "ohayo"] == [
        date(2026, 11, d)
        for d in (24, 25, 26, 27)  # 11-23 is 勤労感謝の日
    ]
    assert sum(o.programme.name == "night-study" for o in week) == 7
    photo = [o for o in week if o.programme.name == "photo-labo"]
    assert [o.start for o in photo] == [datetime(2026, 11, 29, 0, tzinfo=UTC)]  # Sun 09:00 JST
    assert photo[0].programme.target_channel("C0BROADCAST") == "C0BROADCAST"


async def test_subscriptions(db, team, other):
    await _import(db, EXAMPLE, team)
    photo = await repo.get_program(db=db, team_id=team, name="photo-labo")
    ohayo = await repo.get_program(db=db, team_id=team, name="ohayo")
    kw = {"db": db, "team_id": team}
    assert await repo.subscribe(**kw, program_id=photo.id, user_id="U0MEMBER1")
    assert not await repo.subscribe(**kw, program_id=photo.id, user_id="U0MEMBER1")  # idempotent
    assert await repo.subscribe(**kw, program_id=photo.id, user_id="U0MEMBER2")
    assert await repo.subscribe(**kw, program_id=ohayo.id, user_id="U0MEMBER1")
    assert await repo.list_subscribers(**kw, program_id=photo.id) == ["U0MEMBER1", "U0MEMBER2"]
    mine = await repo.list_subscriptions(**kw, user_id="U0MEMBER1")
    assert {p.name for p in mine} == {"ohayo", "photo-labo"}
    with pytest.raises(repo.ProgramNotFound):
        await repo.subscribe(db=db, team_id=other, program_id=photo.id, user_id="U0MEMBER1")
    assert await repo.list_subscriptions(db=db, team_id=other, user_id="U0MEMBER1") == []

    assert await repo.unsubscribe(**kw, program_id=photo.id, user_id="U0MEMBER2")
    assert not await repo.unsubscribe(**kw, program_id=photo.id, user_id="U0MEMBER2")
    assert await repo.list_subscribers(**kw, program_id=photo.id) == ["U0MEMBER1"]

    hosted = await repo.list_hosted(**kw, user_id="U0EXAMPLE1")
    assert {p.name for p in hosted} == {"photo-labo", "nenmatsu-special"}
    forgot = await repo.forget_member(**kw, user_id="U0MEMBER1")
    assert forgot == repo.ForgetResult(subscriptions=2, personalities=0)
    assert await repo.list_subscriptions(**kw, user_id="U0MEMBER1") == []
    host = await repo.forget_member(**kw, user_id="U0EXAMPLE1")
    assert host.personalities == 2 and await repo.list_hosted(**kw, user_id="U0EXAMPLE1") == []


async def test_export_then_import_is_a_no_op_and_teams_are_separate(db, team, other):
    await _import(db, EXAMPLE, team)
    text = export_programs(await repo.list_programs(db=db, team_id=team, active_only=False))
    report = await _import(db, text, team)
    assert report.ok and len(report.unchanged) == 6
    theirs = await _import(db, text, other)
    assert len(theirs.created) == 6
    assert len(await repo.list_programs(db=db, team_id=team)) == 6


async def test_migration_downgrades(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'mig.db'}")
    try:
        await migrate.upgrade(database, "0005_programs")
        await migrate.downgrade(database, "0001_spine")
        async with database.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sa_inspect(c).get_table_names())
        assert "programs" not in tables and "program_subscriptions" not in tables
        await migrate.upgrade(database, "0005_programs")
    finally:
        await database.dispose()
