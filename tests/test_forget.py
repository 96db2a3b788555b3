"""Forget means forgotten (#20): after /mydata forget, no table, column or byte of the SQLite file holds the
member's Slack id, DM channel id, name or department, and the bot's own posts that showed them say so no more."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from bot.blocks.faq import ANSWER, FORWARD, HELPFUL
from bot.local import requests as req
from storage import faqs
from storage import outbox as outbox_store
from storage.models import ApprovalRequest, Member
from tests.announce_flow import announce
from tests.faq_flow import ask, buttons, click, load_faqs, new_ts
from tests.membership_flow import TEAM, cards, decide, register
from tests.test_privacy import DEPARTMENT, NAME, forget, full_member

UNANSWERABLE = "駐輪場の申請方法"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _readable(value: Any) -> str:
    """A column value as text a person would read: JSON (stored with \\u escapes) decoded, bytes as UTF-8."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="ignore")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    found = str(value)
    try:
        return found + json.dumps(json.loads(found), ensure_ascii=False)
    except (ValueError, TypeError):
        return found


async def scan_tables(db, needles: list[str]) -> dict[str, int]:
    """{table: values holding a needle} over every table the database has (reflected, not listed by hand)."""
    async with db.engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "members" in tables and "outbox" in tables
        hits: dict[str, int] = {}
        for table in tables:
            for row in (await conn.execute(text(f"SELECT * FROM {_quoted(table)}"))).all():
                for value in row:
                    shown = _readable(value)
                    if any(n in shown for n in needles):
                        hits[table] = hits.get(table, 0) + 1
    return hits


def scan_file(url: str, needles: list[str]) -> dict[str, int]:
    """Occurrences of each needle in the SQLite file and its WAL, as UTF-8 and as JSON's \\u escapes."""
    path = Path(make_url(url).database)
    forms = {n: {n.encode(), json.dumps(n)[1:-1].encode()} for n in needles}
    hits: dict[str, int] = {}
    for file in (path, path.with_name(path.name + "-wal")):
        if not file.exists():
            continue
        data = file.read_bytes()
        for needle, encoded in forms.items():
            count = sum(data.count(form) for form in encoded)
            if count:
                hits[f"{file.name}:{needle}"] = count
    return hits


async def a_full_life(signed, people) -> str:
    """Welcome DM, registration and approval (card, greeting, DMs), a 課, a programme, a forwarded question,
    a vote, a question by DM, an announcement by DM. Returns the member's DM channel id."""
    slack = signed.slack
    await signed.event(req.team_join_event(slack.user(people.member)))
    await signed.settle()
    await full_member(signed, people)
    await load_faqs(signed)
    answer = await ask(signed, people.member, "/faq", UNANSWERABLE)
    await click(signed, people.member, buttons(answer, FORWARD)[0])
    answer = await ask(signed, people.member, "/faq", "保管温度")
    await click(signed, people.member, buttons(answer, HELPFUL)[0])
    dm = slack.dm_channel(people.member)
    await signed.event(req.message_event(people.member, dm, "保管温度", ts=new_ts(), channel_type="im"))
    await signed.settle()
    await announce(signed, people.organizer, "members 全員へのお知らせ")
    await signed.settle()
    return dm


def shows(message: dict, needles: list[str]) -> bool:
    body = json.dumps({k: message.get(k) for k in ("text", "blocks")}, ensure_ascii=False)
    return any(n in body for n in needles)


async def test_after_forget_no_table_and_no_byte_of_the_file_holds_the_member(signed, people, db_url):
    db = signed.yakuba.deps.db
    dm = await a_full_life(signed, people)
    needles = [people.member, dm, NAME, DEPARTMENT]
    before = await scan_tables(db, needles)
    # The scan does find the member while they are a member (so its silence after the erase means something).
    assert {"members", "outbox", "approval_requests", "announcement_deliveries"} <= set(before), before

    assert await forget(signed, people.member) == signed.yakuba.deps.texts("privacy.forget.done")
    await signed.yakuba.deps.outbox.flush()
    await signed.settle()

    assert await scan_tables(db, needles) == {}
    if db.is_sqlite:
        assert scan_file(db_url, needles) == {}


async def test_the_bots_own_posts_that_showed_the_member_become_neutral(signed, people):
    texts = signed.yakuba.deps.texts
    slack = signed.slack
    await a_full_life(signed, people)
    needles = [f"<@{people.member}>", NAME, DEPARTMENT]
    channels = [people.admin_channel, slack.channel("kenjinkai-13-tokyo")["id"]]
    showing = [m for c in channels for m in slack.messages(c) if shows(m, needles)]
    # The approval card, the greeting in the 県人会 and the forwarded question.
    assert len(showing) == 3, showing

    await forget(signed, people.member)
    await signed.yakuba.deps.outbox.flush()
    await signed.settle()

    after = [m for c in channels for m in slack.messages(c)]
    assert not [m for m in after if shows(m, needles)]
    neutral = texts("privacy.forgotten.member")
    updated = [m for m in after if m.get("edited") and neutral in json.dumps(m, ensure_ascii=False)]
    assert len(updated) == 3
    # The forwarded question keeps the question and the organisers' answer button.
    [card] = [m for m in updated if buttons(m, ANSWER)]
    assert UNANSWERABLE in json.dumps(card["blocks"], ensure_ascii=False)


async def test_an_update_that_fails_is_retried(signed, people):
    slack = signed.slack
    await a_full_life(signed, people)

    def updates(ok: bool) -> int:
        return len([c for c in slack.calls_to("chat.update") if bool(c.response.get("ok")) is ok])

    done = updates(True)
    slack.error("chat.update", "ratelimited", times=3)
    await forget(signed, people.member)
    await signed.yakuba.deps.outbox.flush()
    await signed.settle()
    assert (updates(False), updates(True) - done) == (3, 0)
    # The failed updates wait in the outbox with a back-off; a later flush (clock moved on) sends them.
    signed.clock.advance(timedelta(hours=1))
    await signed.yakuba.deps.outbox.flush()
    assert updates(True) - done == 3
    texts = signed.yakuba.deps.texts
    assert texts("privacy.forgotten.card") in str(slack.messages(people.admin_channel))


async def test_the_anonymous_row_keeps_only_prefecture_kind_and_month(signed, people):
    db, tz = signed.yakuba.deps.db, signed.yakuba.settings.tz
    await full_member(signed, people)
    await forget(signed, people.member)
    async with db.read() as session:
        member = (await session.scalars(select(Member).where(Member.status == "anonymous"))).one()
    row = {c.key: getattr(member, c.key) for c in Member.__table__.columns}
    kept = {k: v for k, v in row.items() if v not in (None, "", [], 0, False)}
    month = row["approved_at"].astimezone(tz)
    assert (month.day, month.hour, month.minute) == (1, 0, 0)
    assert row["muni_code"] is None and row["name"] is None and row["department"] is None
    assert set(kept) <= {
        "id",
        "team_id",
        "user_id",
        "status",
        "pref_code",
        "org_type",
        "joined_at",
        "created_at",
        "updated_at",
        "approved_at",
    }, kept
    # 千代田区 is a special ward: its kind of government stays, its code does not.
    assert (kept["pref_code"], kept["org_type"]) == ("13", "ward")
    dates = {k: kept[k] for k in ("joined_at", "created_at", "updated_at", "approved_at")}
    assert len(set(dates.values())) == 1, dates  # one month, the month of joining: no second date
    assert row["team_id"] == TEAM


async def test_a_late_click_on_the_card_of_an_erased_applicant_approves_nothing(signed, people):
    texts, slack = signed.yakuba.deps.texts, signed.slack
    await full_member(signed, people)
    # A change of organisation type asks the organisers again: a pending re-approval card.
    await register(signed, people.member, org_type="prefecture", muni=None, name=NAME, department=DEPARTMENT)
    stale = cards(signed, people.admin_channel, people.member)[-1]
    await forget(signed, people.member)
    posts = sum(len(slack.messages(c["id"])) for c in slack.ws.channels.values())
    await decide(signed, people.organizer, stale, people.admin_channel)
    assert slack.ephemerals(people.organizer)[-1]["text"] == texts("approvals.gone")
    assert sum(len(slack.messages(c["id"])) for c in slack.ws.channels.values()) == posts
    async with signed.yakuba.deps.db.read() as session:
        assert (await session.scalars(select(ApprovalRequest.status).order_by(ApprovalRequest.id))).all() == [
            "approved",
            "withdrawn",
        ]
        assert (await session.scalars(select(Member.status))).all() == ["anonymous"]


async def test_a_member_who_only_asked_by_dm_is_forgotten_too(signed, people, db_url):
    """No send of ours recorded their DM channel: the erase asks Slack for it (conversations.open)."""
    db, slack = signed.yakuba.deps.db, signed.slack
    await load_faqs(signed)
    dm = slack.dm_channel(people.member)
    await signed.event(req.message_event(people.member, dm, "保管温度", ts=new_ts(), channel_type="im"))
    await signed.settle()
    assert set(await scan_tables(db, [dm])) == {"outbox"}  # the reply: its key, target and channel
    assert await forget(signed, people.member) == signed.yakuba.deps.texts("privacy.forget.done")
    assert await scan_tables(db, [people.member, dm]) == {}
    if db.is_sqlite:
        assert scan_file(db_url, [people.member, dm]) == {}


async def test_an_organiser_who_forgets_is_no_longer_named_as_approver_author_or_announcer(signed, people, db_url):
    db = signed.yakuba.deps.db
    await a_full_life(signed, people)
    by = {"author": people.organizer, "edited_by": people.organizer}
    for answer in ("最初の回答", "書き直した回答"):  # the second makes a revision holding the first
        await faqs.upsert(db=db, team_id=TEAM, question="運営への連絡方法", answer=answer, **by)
    dm = signed.slack.dm_channel(people.organizer)
    needles = [people.organizer, dm]
    before = await scan_tables(db, needles)
    assert {"members", "approval_requests", "announcements", "faqs", "faq_revisions", "audit_log"} <= set(before)
    await forget(signed, people.organizer)
    assert await scan_tables(db, needles) == {}
    if db.is_sqlite:
        assert scan_file(db_url, needles) == {}
    # The member they approved keeps their own data: only the approver's id went.
    assert (await scan_tables(db, [people.member]))["members"] == 1


async def test_someone_else_whose_id_begins_with_the_members_is_left_alone(signed, people):
    db = signed.yakuba.deps.db
    await full_member(signed, people)
    other = people.member + "9"  # Slack ids differ in length: one can begin with another
    payload = {
        "text": f"<@{other}> さんのお知らせ",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": other}}],
    }
    async with db.write() as session:
        await outbox_store.enqueue(
            session, team_id=TEAM, key=f"note:{other}", kind="post", target=people.admin_channel, payload=payload
        )
    await forget(signed, people.member)
    row = await outbox_store.by_key(db, team_id=TEAM, key=f"note:{other}")
    assert row is not None and row.payload == payload
    assert await outbox_store.by_key(db, team_id=TEAM, key=f"forgotten:{row.id}") is None
