"""Events: sign-up under concurrent clicks (SQLite and PostgreSQL alike), once per member, the deadline, /events
for this member, /events mine with its .ics, and the organisers' and leads' modal."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import icalendar

from bot.blocks import events as blocks
from bot.local import requests as req
from bot.services import events as service
from schedules import events as job
from storage import events as store
from storage import members as member_store
from storage.models import Member
from tests.events_flow import (
    JOIN_URL,
    START,
    TEAM,
    body,
    bot_posts,
    button_of,
    catalogue,
    click,
    dms,
    event_by_key,
    import_catalogue,
    ready,
)
from tests.membership_flow import approved, channels

CLICKERS = 12
SEATS = 3


async def test_the_last_seats_go_to_exactly_one_each_under_concurrent_clicks(signed, people, tmp_path):
    await ready(signed)
    deps = signed.yakuba.deps
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer, capacity=SEATS))
    event = await event_by_key(signed)
    [post] = bot_posts(signed, people.broadcast_channel)
    users = [signed.slack.add_user(f"m{n}")["id"] for n in range(CLICKERS)]
    # Everyone at once, and the first of them three more times (a double click, a retry): 15 attempts.
    attempts = [*users, users[0], users[0], users[0]]
    channel = people.broadcast_channel
    await asyncio.gather(
        *(click(signed, u, blocks.JOIN, str(event.id), channel=channel, message=post) for u in attempts)
    )
    await signed.settle()
    seated = await store.people(deps.db, event_id=event.id, status=store.SEAT)
    waiting = await store.people(deps.db, event_id=event.id, status=store.WAIT)
    figures = f"attempts={len(attempts)} seats={len(seated)} waitlist={len(waiting)}"
    print(f"\nconcurrent sign-up on {deps.db.dialect}: {figures}")
    assert len(seated) == SEATS and len(waiting) == CLICKERS - SEATS
    assert sorted(seated + waiting) == sorted(users)  # each member once, nobody lost
    # A waiting member who clicks again hears their place in line, read in the sign-up's own transaction.
    again = [await service.sign_up(deps, team_id=TEAM, event_id=event.id, user_id=u) for u in reversed(waiting)]
    assert [(r.outcome, r.place) for r in again] == [("already_wait", n) for n in range(len(waiting), 0, -1)]
    places = [await store.place_in_line(deps.db, event_id=event.id, user_id=u) for u in waiting]
    assert places == list(range(1, CLICKERS - SEATS + 1))
    # Each member was told once: a confirmation (with the link) or their place on the waitlist (without it).
    await deps.outbox.flush()
    for user in users:
        told = dms(signed, user)
        assert len(told) == 1, user
        assert (JOIN_URL in body(told[0])) == (user in seated)

    # Cancellations promote in waitlist order, each promoted member told once.
    for leaving in seated:
        await click(signed, leaving, blocks.CANCEL, str(event.id))
    await signed.settle()
    assert set(await store.people(deps.db, event_id=event.id, status=store.SEAT)) == set(waiting[:SEATS])


async def test_after_the_deadline_sign_up_closes_politely(signed, people, tmp_path):
    await ready(signed)
    deps = signed.yakuba.deps
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer))
    event = await event_by_key(signed)
    signed.clock.set(event.deadline + timedelta(minutes=1))
    await click(signed, people.member, blocks.JOIN, str(event.id))
    await signed.settle()
    [answer] = signed.slack.ephemerals(people.member)
    assert deps.texts("events.signup.closed", title=event.title) in body(answer)
    assert await store.status_of(deps.db, event_id=event.id, user_id=people.member) is None
    # The card no longer offers 参加する once closed.
    listed = await signed.command(people.member, "/events", "")
    shown = await listed.json()
    assert button_of(shown, blocks.JOIN) is None and deps.texts("events.card.closed") in body(shown)


async def _member(signed, user: str, *, pref: str, lead: bool = False) -> None:
    async with signed.yakuba.deps.db.write() as session:
        session.add(Member(team_id=TEAM, user_id=user, status="approved", pref_code=pref, is_lead=lead, interests=[]))


async def test_events_lists_what_is_for_this_member_and_mine_sends_one_ics(signed, people, tmp_path):
    await ready(signed)
    extra = """\
  - key: saitama-koryukai
    title: 埼玉県人会 交流会
    kind: 交流会
    starts_at: 2026-12-04 19:00
    ends_at: 2026-12-04 21:00
    audience: pref:11
    venue: 大宮駅前
  - key: osaka-koryukai
    title: 大阪府人会 交流会
    kind: 交流会
    starts_at: 2026-12-05 19:00
    ends_at: 2026-12-05 21:00
    audience: pref:27
"""
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer, extra=extra))
    await _member(signed, people.member, pref="11")
    answer = await (await signed.command(people.member, "/events", "")).json()
    shown = body(answer)
    assert "新規入庁者向け説明会" in shown and "埼玉県人会 交流会" in shown and "大阪府人会" not in shown
    assert JOIN_URL not in shown
    setsumeikai = await event_by_key(signed)
    saitama = await event_by_key(signed, "saitama-koryukai")
    for event in (setsumeikai, saitama):
        await click(signed, people.member, blocks.JOIN, str(event.id))
    await signed.settle()
    mine = await (await signed.command(people.member, "/events", "mine")).json()
    assert "新規入庁者向け説明会" in body(mine) and "埼玉県人会 交流会" in body(mine)
    await click(signed, people.member, blocks.MINE_ICS, "all")
    await signed.settle()
    [upload] = signed.slack.files()
    calendar = icalendar.Calendar.from_ical(upload["content"])
    found = {str(c["summary"]): c for c in calendar.walk("VEVENT")}
    assert set(found) == {"新規入庁者向け説明会", "埼玉県人会 交流会"}
    assert found["新規入庁者向け説明会"]["dtstart"].dt == START
    assert str(found["新規入庁者向け説明会"]["uid"]) == service.uid_of(setsumeikai)
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    assert JOIN_URL.encode() not in upload["content"]

    # Another prefecture's 交流会 is not for her, even with its button in hand (a forwarded post, a forged click).
    osaka = await event_by_key(signed, "osaka-koryukai")
    await click(signed, people.member, blocks.JOIN, str(osaka.id))
    await signed.settle()
    assert signed.yakuba.deps.texts("events.signup.not_audience", title=osaka.title) in [
        e["text"] for e in signed.slack.ephemerals(people.member)
    ]
    assert "大阪府人会" not in body(await (await signed.command(people.member, "/events", "mine")).json())


def _form_values(**fields: str) -> dict:
    values = {}
    for name, value in fields.items():
        if name == "kind":
            values[name] = {blocks.FIELD: {"type": "static_select", "selected_option": {"value": value}}}
        else:
            values[name] = {blocks.FIELD: {"type": "plain_text_input", "value": value}}
    return values


FORM = {
    "key": "gunma-koryukai",
    "title": "群馬県人会 交流会",
    "kind": "koryukai",
    "starts_at": "2026-12-10 19:00",
    "ends_at": "2026-12-10 21:00",
    "audience": "pref:10",
    "capacity": "20",
}


async def test_a_lead_adds_events_for_their_own_association_only(signed, people):
    await ready(signed)
    deps = signed.yakuba.deps
    lead = signed.slack.add_user("gunma-lead")["id"]
    await _member(signed, lead, pref="10", lead=True)
    assert (await member_store.get(deps.db, team_id=TEAM, user_id=lead)).is_lead
    await signed.command(lead, "/events", "add")
    await signed.settle()
    [view] = signed.slack.open_views(lead)
    response = await signed.submit(lead, view, _form_values(**{**FORM, "audience": "pref:13"}))
    refused = await response.json()
    assert refused["errors"] == {"audience": deps.texts.plain("events.form.not_allowed")}
    assert await store.by_key(deps.db, team_id=TEAM, key="gunma-koryukai") is None
    response = await signed.submit(lead, view, _form_values(**FORM))
    assert (await response.json())["response_action"] == "update"
    saved = await store.by_key(deps.db, team_id=TEAM, key="gunma-koryukai")
    assert saved.capacity == 20 and saved.audience == "pref:10"
    # A member who is not a lead cannot open the form, nor forge its submission.
    answer = await (await signed.command(people.member, "/events", "add")).json()
    assert deps.texts("events.form.not_allowed") in body(answer)
    forged = await (await signed.submit(people.member, view, _form_values(**{**FORM, "key": "forged"}))).json()
    assert forged["errors"] == {"audience": deps.texts.plain("events.form.not_allowed")}


async def test_an_organiser_edits_capacity_and_the_waitlist_moves_up(signed, people, tmp_path):
    await ready(signed)
    deps = signed.yakuba.deps
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer, capacity=1))
    event = await event_by_key(signed)
    first, second = (signed.slack.add_user(n)["id"] for n in ("ichi", "ni"))
    for who in (first, second):
        await click(signed, who, blocks.JOIN, str(event.id))
        await signed.settle()
    assert await store.people(deps.db, event_id=event.id, status=store.WAIT) == [second]
    await signed.command(people.organizer, "/events", f"edit {event.key}")
    await signed.settle()
    [view] = signed.slack.open_views(people.organizer)
    values = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert "key" not in values and values["capacity"]["initial_value"] == "1"
    edited = {k: v for k, v in FORM.items() if k != "key"} | {
        "title": event.title,
        "kind": "setsumeikai",
        "starts_at": "2026-11-27 19:00",
        "ends_at": "2026-11-27 20:00",
        "audience": "all",
        "capacity": "2",
        "join_url": JOIN_URL,
    }
    response = await signed.submit(people.organizer, view, _form_values(**edited))
    assert (await response.json())["response_action"] == "update"
    await signed.settle()
    await deps.outbox.flush()
    assert set(await store.people(deps.db, event_id=event.id, status=store.SEAT)) == {first, second}
    assert JOIN_URL in body(dms(signed, second)[-1])


async def test_the_welcome_points_to_the_next_setsumeikai(signed, people, tmp_path):
    await ready(signed)
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer))
    event = await event_by_key(signed)
    newcomer = signed.slack.add_user("shinjin")
    await signed.event(req.team_join_event(newcomer))
    await signed.settle()
    await signed.yakuba.deps.outbox.flush()
    welcome = dms(signed, newcomer["id"])[0]
    assert button_of(welcome, blocks.JOIN)["value"] == str(event.id)
    assert signed.yakuba.deps.texts("events.newcomer.next", title=event.title, start="2026-11-27 19:00") in body(
        welcome
    )


async def test_the_approval_dm_points_to_the_next_setsumeikai_and_the_waitlist_hears_at_the_start(
    signed, people, tmp_path
):
    await ready(signed)
    deps = signed.yakuba.deps
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer, capacity=1))
    event = await event_by_key(signed)
    await channels(signed)
    await approved(signed, people, people.member)
    await deps.outbox.flush()
    approval = [m for m in dms(signed, people.member) if button_of(m, blocks.JOIN)]
    assert approval and button_of(approval[-1], blocks.JOIN)["value"] == str(event.id)

    first, second = (signed.slack.add_user(n)["id"] for n in ("saki", "ato"))
    for who in (first, second):
        await click(signed, who, blocks.JOIN, str(event.id))
        await signed.settle()
    assert await store.people(deps.db, event_id=event.id, status=store.WAIT) == [second]
    [(_, outcome)] = await signed.yakuba.scheduler.tick(job.JOB, START)
    assert outcome == "done"
    await deps.outbox.flush()
    assert deps.texts("events.reminder.wait_closed", title=event.title) in body(dms(signed, second)[-1])
    assert all(deps.texts("events.reminder.wait_closed", title=event.title) not in body(m) for m in dms(signed, first))
