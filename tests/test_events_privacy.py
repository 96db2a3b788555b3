"""Events and personal data: organisers see survey topics without the member's name unless they agreed; the
monthly 次のテーマ候補 groups topics; sign-ups, waitlist places and answers are in /mydata export and erased."""

from __future__ import annotations

from datetime import datetime

from bot.blocks import events as blocks
from schedules import events as job
from storage import events as store
from tests.events_flow import body, catalogue, click, event_by_key, import_catalogue, ready
from tests.test_forget import scan_tables
from tests.test_privacy import DEPARTMENT, NAME, exported, forget, full_member

SECOND = """\
  - key: benkyokai-1204
    title: 窓口DX勉強会
    kind: 勉強会
    starts_at: 2026-12-04 19:00
    ends_at: 2026-12-04 20:30
    capacity: 1
"""


def _topic_values(topic: str, share: bool) -> dict:
    options = [{"value": "yes"}] if share else []
    return {
        "topic": {blocks.FIELD: {"type": "plain_text_input", "value": topic}},
        "share": {blocks.FIELD: {"type": "checkboxes", "selected_options": options}},
    }


async def _wish(signed, user: str, event, topic: str, *, share: bool) -> None:
    await click(signed, user, blocks.TOPIC, str(event.id))
    await signed.settle()
    view = signed.slack.open_views(user)[-1]
    response = await signed.submit(user, view, _topic_values(topic, share))
    assert response.status == 200
    await signed.settle()


async def test_topics_are_anonymous_unless_agreed_and_the_monthly_report_groups_them(signed, people, tmp_path):
    await ready(signed)
    deps = signed.yakuba.deps
    texts = deps.texts
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer))
    event = await event_by_key(signed)
    shy, open_ = (signed.slack.add_user(n)["id"] for n in ("shy", "open"))
    for who in (shy, open_):
        await click(signed, who, blocks.JOIN, str(event.id))
    await signed.settle()
    await click(signed, shy, blocks.RATE, f"{event.id}:4")
    await click(signed, open_, blocks.RATE, f"{event.id}:5")
    await _wish(signed, shy, event, "議会答弁の書き方", share=False)
    await _wish(signed, open_, event, "議会答弁の書き方", share=True)
    # A member without a place cannot answer.
    await click(signed, people.member, blocks.RATE, f"{event.id}:1")
    await signed.settle()
    assert texts("events.survey.not_signed") in body(signed.slack.ephemerals(people.member)[-1])

    answer = await (await signed.command(people.organizer, "/events", f"results {event.key}")).json()
    shown = body(answer)
    assert texts("events.results.summary", answers=2, average="4.5", seats=2, missed=0) in shown
    assert shy not in shown and texts("events.results.anonymous") in shown
    assert open_ in shown  # agreed: shown by name (no registered name here, so the mention)
    refused = await (await signed.command(people.member, "/events", f"results {event.key}")).json()
    assert refused["text"] == texts("events.admin.not_allowed")

    # The 1st of next month, 09:00 JST: one report in the admin channel, the same topic counted twice, nobody named.
    slot = datetime.fromisoformat("2026-12-01T09:00+09:00")
    assert await job.run_topics(deps, slot) == "topics=2 groups=1"
    assert await job.run_topics(deps, slot) == "already posted"
    [report] = [m for m in signed.slack.messages(people.admin_channel) if "議会答弁" in body(m)]
    assert texts("events.report.line", topic="議会答弁の書き方", count=2) in body(report)
    assert shy not in body(report) and open_ not in body(report)


async def test_signups_waitlist_places_and_answers_are_exported_then_forgotten(signed, people, tmp_path):
    await ready(signed)
    deps = signed.yakuba.deps
    await full_member(signed, people)
    await import_catalogue(signed, catalogue(tmp_path, host=people.organizer, extra=SECOND))
    first = await event_by_key(signed)
    second = await event_by_key(signed, "benkyokai-1204")
    ahead = signed.slack.add_user("ahead")["id"]
    await click(signed, ahead, blocks.JOIN, str(second.id))
    await signed.settle()
    for event in (first, second):
        await click(signed, people.member, blocks.JOIN, str(event.id))
        await signed.settle()
    await click(signed, people.member, blocks.RATE, f"{first.id}:5")
    await _wish(signed, people.member, first, "防災訓練の企画", share=True)
    await deps.outbox.flush()

    data = await exported(signed, people.member)
    places = {s["event"]: (s["status"], s["waitlist_place"]) for s in data["events"]["signups"]}
    assert places == {first.title: ("seat", None), second.title: ("wait", 1)}
    [survey] = data["events"]["surveys"]
    assert survey["satisfaction"] == 5 and survey["topic"] == "防災訓練の企画" and survey["share_name"] is True

    dm = signed.slack.dm_channel(people.member)
    before = await scan_tables(deps.db, [people.member, dm, NAME, DEPARTMENT])
    assert {"event_signups", "event_surveys"} <= set(before), before
    await forget(signed, people.member)
    after = await scan_tables(deps.db, [people.member, dm, NAME, DEPARTMENT])
    assert after == {}, after
    assert await store.status_of(deps.db, event_id=second.id, user_id=people.member) is None
    assert await store.people(deps.db, event_id=second.id, status=store.SEAT) == [ahead]
    assert (await store.surveys(deps.db, event_id=first.id)) == []
