"""Member counts (#19): kept by every write to members, equal to a full recount, rebuilt by `yakuba db recount`.

Runs on SQLite, and on PostgreSQL when YAKUBA_TEST_POSTGRES is set (the conftest switch that CI uses).
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from bot.texts import Texts
from storage import directory, member_counts, members, migrate, privacy
from storage.db import Database
from storage.members import Profile
from storage.models import Member
from tests import cli_flow
from tests.test_cli import ROOT, env

TZ = ZoneInfo("Asia/Tokyo")
TEAMS = ("T0COUNTA", "T0COUNTB")
START = datetime(2026, 3, 31, 14, 50, tzinfo=UTC)  # 23:50 JST: minutes later is April in Tokyo, still March in UTC
# (prefecture, municipality, kind): a ward of a designated city, a city, a prefecture, the State, none given.
PLACES = (
    ("01", "011011", "municipality"),
    ("13", "131016", "municipality"),
    ("27", None, "prefecture"),
    ("13", None, "national"),
    ("47", None, "other"),
)
IMPORT_COLUMNS = ("team_id", "user_id", "status", "joined_at", "left_at", "created_at", "updated_at", "org_type")
IMPORT_COLUMNS += ("pref_code", "muni_code", "interests", "approved_at", "is_lead")
fresh_ids = itertools.count()


@pytest.fixture
async def db(db_url):
    database = Database(db_url)
    await migrate.upgrade(database)
    yield database
    await database.dispose()


async def assert_kept(db: Database) -> member_counts.Snapshot:
    async with db.read() as session:
        kept, recounted = await member_counts.kept(session), await member_counts.recounted(session)
    assert kept == recounted
    return kept


# --- the write paths, as the app takes them ----------------------------------------------------------------


async def join(db, team, uid, **_):
    async with db.write() as session:
        await members.join(session, team_id=team, user_id=uid)


async def register(db, team, uid, place=PLACES[0], **_):
    """What /register stores (bot/services/membership.save_profile): the profile, then pending."""
    pref, muni, org = place
    async with db.write() as session:
        member = await members.by_user(session, team_id=team, user_id=uid)
        if member is None or member.left_at is not None:
            member = await members.join(session, team_id=team, user_id=uid)
        members.apply_profile(member, Profile("名前", org, pref, muni, "総務課"), now=START)
        if member.status != "approved":
            member.status = "pending"


async def decide(db, team, uid, minutes=0, approve=True, **_):
    """An organiser's decision (bot/services/membership.decide): approved at some moment, or rejected."""
    async with db.write() as session:
        member = await members.by_user(session, team_id=team, user_id=uid)
        if member is None:
            return
        if approve:
            member.status, member.approved_at = "approved", START + timedelta(minutes=minutes)
        else:
            member.status = "rejected"


async def transfer(db, team, uid, place=PLACES[1], **_):
    """An approved member moves (save_profile without re-approval): a new prefecture and municipality."""
    pref, muni, org = place
    async with db.write() as session:
        member = await members.by_user(session, team_id=team, user_id=uid)
        if member is not None:
            members.apply_profile(member, Profile("名前", org, pref, muni, "総務課"), now=START)


async def leave(db, team, uid, **_):
    await members.leave(db, team_id=team, user_id=uid)


async def come_back(db, team, uid, **_):
    await members.restore(db, team_id=team, user_id=uid)


async def forget(db, team, uid, **_):
    await privacy.forget(
        db,
        team_id=team,
        user_id=uid,
        tz=TZ,
        pseudonym=lambda user: f"h-{user}",
        neutral=lambda key, payload, person: (payload, False),
    )


async def sync(db, team, uid, minutes=0, **_):
    """A page of users.list (members sync): a new person and a deactivated one, or the other way round."""
    other = f"U0SYNC{next(fresh_ids)}"
    active, deleted = ([uid], [other]) if minutes % 2 else ([other], [uid])
    async with db.write() as session:
        await members.record_batch(session, team_id=team, active=active, deleted=deleted, now=START)


async def bulk_import(db, team, uid, minutes=0, place=PLACES[0], **_):
    """A bulk import of a few members (COPY on PostgreSQL, executemany with the triggers paused on SQLite)."""
    pref, muni, org = place
    naive = START.replace(tzinfo=None)
    rows = []
    for i in range(1 + minutes % 4):
        status = ("approved", "pending", "joined", "approved")[i]
        approved = naive + timedelta(minutes=minutes + 7 * i) if status == "approved" else None
        left = naive if i == 3 else None
        rows.append((team, f"U0BULK{next(fresh_ids)}", status, naive, left, naive, naive, org, pref, muni, "[]"))
        rows[-1] += (approved, False)
    await members.import_batch(db, IMPORT_COLUMNS, rows)


PATHS = {
    "join": join,
    "register": register,
    "approve": decide,
    "reject": lambda db, team, uid, **kw: decide(db, team, uid, approve=False, **kw),
    "transfer": transfer,
    "leave": leave,
    "come_back": come_back,
    "forget": forget,
    "sync": sync,
    "import": bulk_import,
}

operations = st.lists(
    st.tuples(
        st.sampled_from(sorted(PATHS)),
        st.sampled_from(TEAMS),
        st.integers(0, 5),  # one of six people per team, so paths meet the same member
        st.sampled_from(PLACES),
        st.integers(0, 60 * 24 * 40),  # minutes after START: across month ends in UTC and in Tokyo
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
async def test_kept_counts_equal_a_full_recount_after_any_changes(db, steps):
    for name, team, person, place, minutes in steps:
        await PATHS[name](db, team, f"U0P{person}", place=place, minutes=minutes)
        await assert_kept(db)


async def approved_member(db, uid="U0APPROVED", place=PLACES[1], minutes=5) -> None:
    await register(db, TEAMS[0], uid, place=place)
    await decide(db, TEAMS[0], uid, minutes=minutes)


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_every_write_path_changes_the_counts_it_should(db, path):
    """Each path on its own: the kept counts change, and exactly as a recount says (a forgotten path fails here)."""
    await approved_member(db)
    await register(db, TEAMS[0], "U0PENDING")
    if path == "come_back":
        await leave(db, TEAMS[0], "U0APPROVED")
    before = await assert_kept(db)
    target = "U0PENDING" if path in ("approve", "reject") else "U0APPROVED"
    await PATHS[path](db, TEAMS[0], target, place=PLACES[2], minutes=3)
    after = await assert_kept(db)
    if path == "forget":
        # The anonymous row keeps counting for its prefecture and kind (storage/directory.py), its month kept.
        assert after.counts != before.counts and after.approvals != before.approvals
        forget_pending = await assert_kept(db)
        await forget(db, TEAMS[0], "U0PENDING")  # never approved: the row is deleted
        assert await assert_kept(db) != forget_pending
    elif path != "join":  # joining someone already registered changes nothing
        assert after != before


async def test_stats_read_the_kept_counts_not_the_register(db):
    await approved_member(db, "U0ONE", place=PLACES[0], minutes=0)  # 23:50 JST on 31 March
    await approved_member(db, "U0TWO", place=PLACES[1], minutes=15)  # 00:05 JST on 1 April
    await approved_member(db, "U0THREE", place=PLACES[2], minutes=15)
    await forget(db, TEAMS[0], "U0THREE")
    await leave(db, TEAMS[0], "U0TWO")
    now = START + timedelta(days=2)
    figures = await directory.stats(db, team_id=TEAMS[0], now=now, tz=TZ)
    # The anonymous prefecture employee still counts her prefecture as a government (storage/directory.py).
    assert figures.members == 2 and figures.governments == 2
    assert figures.by_prefecture == {"01": 1, "27": 1}
    assert figures.by_kind["city"] == 1 and figures.by_kind["prefecture"] == 1
    assert figures.by_month[-2:] == [("2026-03", 1), ("2026-04", 2)]  # months in Tokyo, not in UTC
    assert await directory.prefecture_counts(db, team_id=TEAMS[0]) == {"01": 1, "27": 1}
    # The statistics come from the counts: a register changed behind the triggers' back does not show.
    async with db.write() as session:
        await session.execute(text("DELETE FROM member_counts"))
    assert (await directory.stats(db, team_id=TEAMS[0], now=now, tz=TZ)).members == 0
    await member_counts.recount(db)
    assert await directory.stats(db, team_id=TEAMS[0], now=now, tz=TZ) == figures


async def test_kenjinkai_figures_from_the_counts(db):
    await approved_member(db, "U0A", place=("13", "131016", "municipality"))
    await approved_member(db, "U0B", place=("13", "131016", "municipality"))
    await approved_member(db, "U0C", place=("13", None, "national"))
    await register(db, TEAMS[0], "U0D", place=("13", "131016", "municipality"))  # pending: not counted
    await members.set_lead(db, team_id=TEAMS[0], user_id="U0B")
    figures = await members.association(db, team_id=TEAMS[0], pref_code="13")
    assert (figures.members, figures.governments, figures.leads) == (3, 2, ["U0B"])


async def test_an_import_batch_that_fails_leaves_no_counts(db):
    await bulk_import(db, TEAMS[0], "", minutes=3)
    before = await assert_kept(db)
    naive = START.replace(tzinfo=None)
    async with db.read() as session:
        taken = await session.scalar(select(Member.user_id).where(Member.team_id == TEAMS[0]).limit(1))
    good = (TEAMS[0], "U0NEWONE", "approved", naive, None, naive, naive, "prefecture", "27", None, "[]", naive, False)
    duplicate = (TEAMS[0], taken, *good[2:])
    with pytest.raises(Exception):  # noqa: B017 - the driver's own unique-violation error
        await members.import_batch(db, IMPORT_COLUMNS, [good, duplicate])
    assert await assert_kept(db) == before


async def test_an_upgrade_puts_back_triggers_a_table_rebuild_dropped(db):
    """SQLite drops a table's triggers when a migration rebuilds it (batch_alter_table, as 0021 downgrading does)."""
    if not db.is_sqlite:
        pytest.skip("PostgreSQL keeps a table's triggers through ALTER TABLE")
    await approved_member(db, "U0KEPT")
    async with db.write() as session:
        for name, _ in member_counts.SQLITE_TRIGGERS:
            await session.execute(text(f"DROP TRIGGER {name}"))
    await approved_member(db, "U0UNSEEN")  # written while the triggers were missing
    await migrate.upgrade(db)
    await approved_member(db, "U0AFTER")
    kept = await assert_kept(db)
    assert sum(n for key, n in kept.counts.items() if key[1] == "approved") == 3


async def test_db_recount_rebuilds_the_counts_and_is_idempotent(tmp_path):
    environ = env(tmp_path)
    database = Database(environ["DATABASE_URL"])
    try:
        await migrate.upgrade(database)
        await approved_member(database, "U0X", place=PLACES[0])
        await approved_member(database, "U0Y", place=PLACES[3])
        kept = await assert_kept(database)
        async with database.write() as session:
            await session.execute(text("UPDATE member_counts SET n = n + 5"))
            await session.execute(text("DELETE FROM member_approvals"))
    finally:
        await database.dispose()
    t = Texts("ja", markup=False)
    for _ in range(2):  # idempotent: the second run finds and says the same
        code, out, err = await cli_flow.in_process(["db", "recount"], cwd=ROOT, environ=environ)
        assert code == 0, err
        started, done = out.splitlines()
        assert started == t("cli.recount.started")
        seconds = re.search(r"([0-9]+\.[0-9]) 秒", done).group(1)
        assert done == t("cli.recount.done", members="2", groups="2", buckets="1", seconds=seconds)
    database = Database(environ["DATABASE_URL"])
    try:
        assert await assert_kept(database) == kept
    finally:
        await database.dispose()
