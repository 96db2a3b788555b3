"""0014_forget: rows erased before #20 are brought to what an erase keeps now."""

from __future__ import annotations

from sqlalchemy import select, text

from storage import migrate
from storage.db import Database
from storage.models import AnnouncementDelivery, Member, OutboxMessage

OLD_ERASE = [
    # An anonymous member as the erase before #20 left it: municipality code, several dates.
    "INSERT INTO members (id, team_id, user_id, status, org_type, pref_code, muni_code, joined_at, created_at,"
    " updated_at, registered_at, approved_at, left_at, interests, is_lead) VALUES (1, 'T1', 'anon:1', 'anonymous',"
    " 'municipality', '13', '131016', '2025-03-01 00:00:00.000000', '2025-03-01 00:00:00.000000',"
    " '2026-11-20 05:00:00.000000', '2025-04-01 00:00:00.000000', '2025-04-30 15:00:00.000000',"
    " '2026-06-30 15:00:00.000000', '[]', 0)",
    "INSERT INTO members (id, team_id, user_id, status, org_type, pref_code, muni_code, joined_at, created_at,"
    " updated_at, interests, is_lead, name) VALUES (2, 'T1', 'U0STAYS', 'approved', 'municipality', '13', '131016',"
    " '2025-03-01 00:00:00.000000', '2025-03-01 00:00:00.000000', '2025-03-01 00:00:00.000000', '[]', 0, 'Stays')",
    "INSERT INTO outbox (team_id, key, kind, target, payload, status, attempts, next_attempt_at, channel, ts,"
    " created_at) VALUES ('T1', 'welcome:U0GONE123', 'dm', 'anon:1', '{}', 'sent', 1, '2025-03-01', 'D0GONE123',"
    " '1.1', '2025-03-01')",
    "INSERT INTO outbox (team_id, key, kind, target, payload, status, attempts, next_attempt_at, channel, ts,"
    " created_at) VALUES ('T1', 'welcome:U0STAYS', 'dm', 'U0STAYS', '{}', 'sent', 1, '2025-03-01', 'D0STAYS', '1.2',"
    " '2025-03-01')",
    "INSERT INTO announcements (id, team_id, created_by, text, allow_mentions, targets, target_key, text_key, status,"
    " total, created_at) VALUES (1, 'T1', 'U0ORG', 'x', 0, '{}', 'k', 't', 'done', 1, '2025-03-01')",
    "INSERT INTO announcement_deliveries (team_id, announcement_id, kind, target, status, attempts, uncertain,"
    " next_attempt_at, channel) VALUES ('T1', 1, 'dm', 'anon:1', 'sent', 1, 0, '2025-03-01', 'D0GONE123')",
]


async def test_rows_erased_before_keep_only_what_an_erase_keeps_now(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/m.db")
    try:
        for before in ("0012_search_words", "0002_membership", "0007_announcements"):
            await migrate.upgrade(db, before)
        assert "0014_forget" not in await migrate.current(db)
        async with db.write() as session:
            for statement in OLD_ERASE:
                await session.execute(text(statement))
        await migrate.upgrade(db)
        async with db.read() as session:
            anon, stays = (await session.scalars(select(Member).order_by(Member.id))).all()
            assert (anon.org_type, anon.muni_code, anon.registered_at) == ("ward", None, None)
            assert {anon.joined_at, anon.created_at, anon.updated_at, anon.left_at} == {anon.approved_at}
            assert (stays.org_type, stays.muni_code, stays.name) == ("municipality", "131016", "Stays")
            rows = {o.target: o for o in await session.scalars(select(OutboxMessage))}
            assert rows["anon:1"].channel is None and "U0GONE123" not in rows["anon:1"].key
            assert rows["anon:1"].key.startswith("welcome:h-")
            assert (rows["U0STAYS"].key, rows["U0STAYS"].channel) == ("welcome:U0STAYS", "D0STAYS")
            delivery = await session.scalar(select(AnnouncementDelivery))
            assert delivery.channel is None
    finally:
        await db.dispose()
