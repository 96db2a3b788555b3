"""0011_local_slack: the console's users and channels round-trip; the migration matches the model and downgrades."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.local.slack import LocalSlack
from storage import local_slack, migrate
from storage.db import Database
from storage.models import Base


async def test_users_and_channels_round_trip_and_new_ids_follow_the_stored_ones(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/l.db")
    try:
        await migrate.upgrade(db)
        before = LocalSlack()
        alice = before.add_user("alice", "Alice")
        room = before.add_channel("room", members=[alice["id"]])
        dm = before.dm_channel(alice["id"])
        assert (
            await local_slack.save(db, team_id="T1", changed=before.export_state()) == 3 + 2
        )  # bot, Slackbot, Alice; room, DM

        after = LocalSlack()
        after.restore_state(await local_slack.load(db, team_id="T1"))
        assert after.user(alice["id"])["real_name"] == "Alice"
        assert after.channel("room")["members"] == sorted([alice["id"], "U0BOT"])
        assert after.dm_channel(alice["id"]) == dm
        assert after.add_user("bob")["id"] > alice["id"]
        assert after.add_channel("hall")["id"] > room["id"]
        assert await local_slack.load(db, team_id="T2") == {"user": {}, "channel": {}}

        after.add_members("room", "U0BOB")  # a change is written over the stored row, not beside it
        await local_slack.save(
            db, team_id="T1", changed={"channel": {room["id"]: after.export_state()["channel"][room["id"]]}}
        )
        again = await local_slack.load(db, team_id="T1")
        assert "U0BOB" in again["channel"][room["id"]]["members"] and len(again["channel"]) == 2

        async with db.engine.connect() as conn:

            def diff(sync_conn):
                found = compare_metadata(
                    MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata
                )
                return [d for d in found if "local_slack_objects" in str(d)]

            assert await conn.run_sync(diff) == []
        await migrate.downgrade(db, "0011_local_slack@-1")
        async with db.engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "local_slack_objects" not in names and "members" in names
    finally:
        await db.dispose()
