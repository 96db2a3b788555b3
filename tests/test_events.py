"""Events (#15) end to end over signed HTTP: import, the channel post, a race for the last seats, the waitlist,
reminders claimed once, the survey, and the recording for those who missed it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.blocks import events as blocks
from bot.cli.operations import run_job
from storage import archives
from storage import events as store
from tests.events_flow import (
    END,
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


def _with_link(signed, user) -> list[dict]:
    return [m for m in dms(signed, user) if JOIN_URL in body(m)]


async def test_import_post_race_waitlist_promotion_reminders_survey_archive(signed, people, tmp_path, capsys):
    await ready(signed)
    slack, deps = signed.slack, signed.yakuba.deps
    texts = deps.texts
    a, b, c = (slack.add_user(name)["id"] for name in ("sato", "suzuki", "takahashi"))

    # Import: one event, announced in the 庁内放送 channel (audience all) with its buttons and no join link.
    report = await import_catalogue(signed, catalogue(tmp_path, host=people.organizer))
    assert report.ok and report.created == ["setsumeikai-1127"], report
    event = await event_by_key(signed)
    [post] = bot_posts(signed, people.broadcast_channel)
    assert button_of(post, blocks.JOIN)["value"] == str(event.id)
    assert button_of(post, blocks.CANCEL) is not None
    assert JOIN_URL not in body(post)
    assert texts("events.card.seats_left", left=2, capacity=2) in body(post)

    # Three members press 参加する at the same moment: two seats, one waitlisted.
    await asyncio.gather(
        *(
            click(signed, who, blocks.JOIN, str(event.id), channel=people.broadcast_channel, message=post)
            for who in (a, b, c)
        )
    )
    await signed.settle()
    seated = await store.people(deps.db, event_id=event.id, status=store.SEAT)
    waiting = await store.people(deps.db, event_id=event.id, status=store.WAIT)
    assert len(seated) == 2 and len(waiting) == 1 and set(seated) | set(waiting) == {a, b, c}
    [late] = waiting
    for who in seated:
        assert len(_with_link(signed, who)) == 1  # the confirmation carries the link
    assert _with_link(signed, late) == []
    assert texts("events.dm.waitlisted", title=event.title, place=1) in body(dms(signed, late)[-1])
    # The channel post shows the full event, and still no link, in any of its versions.
    await signed.settle()
    [post] = bot_posts(signed, people.broadcast_channel)
    assert texts("events.card.full", capacity=2, waiting=1) in body(post)
    for update in slack.calls_to("chat.update"):
        assert JOIN_URL not in str(update.args)

    # A seat holder cancels: the waitlisted member is promoted and told by DM, with the link.
    leaving = seated[0]
    await click(signed, leaving, blocks.CANCEL, str(event.id), channel=people.broadcast_channel, message=post)
    await signed.settle()
    await deps.outbox.flush()
    assert set(await store.people(deps.db, event_id=event.id, status=store.SEAT)) == {seated[1], late}
    promoted = dms(signed, late)[-1]
    assert texts("events.dm.promoted", title=event.title, start="2026-11-27 19:00", end="20:00") in body(promoted)
    assert JOIN_URL in body(promoted)

    # `yakuba jobs run events` for the reminder slot: the link to exactly the signed-up members and the host, once.
    soon = START - timedelta(minutes=deps.settings.yakuba_event_reminder_minutes)
    before = {who: len(_with_link(signed, who)) for who in (a, b, c, people.organizer)}
    await run_job(deps.settings, "events", soon)
    await run_job(deps.settings, "events", soon)
    out = capsys.readouterr().out
    assert "→ done" in out and "→ taken" in out
    gained = {who: len(_with_link(signed, who)) - before[who] for who in before}
    assert gained == {leaving: 0, seated[1]: 1, late: 1, people.organizer: 1}

    # After the event: the survey reaches those with a seat; one rates it, the other could not attend.
    await run_job(deps.settings, "events", END + timedelta(minutes=deps.settings.yakuba_event_survey_minutes))
    for who in (seated[1], late):
        assert button_of(dms(signed, who)[-1], blocks.RATE) is not None
    assert button_of(dms(signed, leaving)[-1], blocks.RATE) is None
    await click(signed, seated[1], blocks.RATE, f"{event.id}:5")
    await click(signed, late, blocks.MISSED, str(event.id))
    await signed.settle()

    # The recording is added by re-importing with archive_url: an /archive entry, and a DM to who missed it only.
    recording = "    archive_url: https://video.example.jp/setsumeikai-1127\n"
    path = catalogue(tmp_path, host=people.organizer, name="again.yaml", extra=recording)
    report = await import_catalogue(signed, path)
    assert report.updated == ["setsumeikai-1127"], report
    [entry] = await archives.list_all(db=deps.db, team_id=TEAM)
    assert entry.series == event.title and entry.recording_url == "https://video.example.jp/setsumeikai-1127"
    archive_text = texts("events.archive.dm", title=event.title, url="https://video.example.jp/setsumeikai-1127")
    got = {who: any(archive_text in body(m) for m in dms(signed, who)) for who in (a, b, c)}
    assert got == {leaving: False, seated[1]: False, late: True}
