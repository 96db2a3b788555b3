"""Events: sign-up and cancellation, channel posts kept current, the archive, calendars, the newcomers' 説明会.

Listeners, jobs (schedules/events.py) and the CLI come here. Every message that must not be lost is queued in
the outbox under a key naming event, kind and member, so restarts, retries and a second replica never send it
twice. A channel post shows seats, never the join link; its counts are rewritten through the paced refresher
(bot/slack/refresher.py) that also keeps the disaster check-ins' tallies.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import icalendar
from slack_sdk.errors import SlackApiError

from bot.blocks.events import (
    archive_dm,
    confirm_dm,
    newcomer_blocks,
    post_message,
    promoted_dm,
    waitlisted_dm,
)
from bot.slack import files
from bot.slack.context import Deps
from bot.slack.permissions import is_organizer
from storage import archives, members, outbox, prefectures, sections
from storage import events as store
from storage.models import Event
from storage.programs import fold

log = logging.getLogger(__name__)


class SignupGate:
    """Sign-ups and cancellations of one event take turns in this process before they take a connection.

    The database lock alone decides who gets a seat (across replicas too); this gate only keeps a burst of
    clicks from holding every pooled connection while they wait for it (a pool timeout would lose clicks).
    SQLite has one writer whatever the event, so there one gate serves all events.
    """

    def __init__(self, *, single_writer: bool) -> None:
        self.single_writer = single_writer
        self._locks: dict[int, asyncio.Lock] = {}

    def lock(self, key: int) -> asyncio.Lock:
        key = 0 if self.single_writer else key
        if key not in self._locks:
            self._locks[key] = asyncio.Lock()
        return self._locks[key]


def post_key(event_id: int) -> str:
    return f"events:{event_id}:post"


# --- who may see and manage ----------------------------------------------------------------------


async def audiences(deps: Deps, *, team_id: str, user_id: str) -> set[str]:
    """Everyone's events, the member's 県人会's and their 課'."""
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    joined = await sections.of_member(deps.db, team_id=team_id, user_id=user_id)
    return store.audiences_of(pref_code=member.pref_code if member else None, sections=[s.name for s in joined])


async def may_manage(deps: Deps, *, team_id: str, user_id: str, audience: str | None) -> bool:
    """Organisers, and a prefecture's leads for an event of their own 県人会 (audience None: may add some)."""
    if await is_organizer(deps, user_id):
        return True
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if member is None or not member.is_lead or member.status != "approved" or member.left_at is not None:
        return False
    return audience is None or audience == f"pref:{member.pref_code}"


async def channel_of(deps: Deps, *, team_id: str, audience: str) -> str | None:
    """Where an event is announced: its 県人会's or 課's channel, else the 庁内放送 channel."""
    if audience.startswith("pref:"):
        found = await prefectures.channel_for(deps.db, team_id=team_id, pref_code=audience[5:])
        return found.channel_id if found else None
    if audience.startswith("ka:"):
        wanted = store.audience_key(audience)
        for section in await sections.active_sections(deps.db, team_id=team_id):
            if store.audience_key(f"ka:{section.name}") == wanted:
                return section.channel_id
        return None
    return deps.settings.yakuba_broadcast_channel


# --- sign-up -------------------------------------------------------------------------------------


async def sign_up(deps: Deps, *, team_id: str, event_id: int, user_id: str) -> store.SignupResult:
    tz, texts = deps.settings.tz, deps.texts
    # A button reaches whoever sees the post (or forges the click): the event's audience is checked here.
    allowed = None if await is_organizer(deps, user_id) else await audiences(deps, team_id=team_id, user_id=user_id)
    async with deps.event_gate.lock(event_id):
        result = await store.sign_up(
            deps.db,
            team_id=team_id,
            event_id=event_id,
            user_id=user_id,
            now=deps.clock(),
            confirm=lambda event, _user: confirm_dm(texts, event, tz=tz),
            waitlisted=lambda event, _user, place: waitlisted_dm(texts, event, place=place),
            audiences=allowed,
        )
    if result.outcome in ("seat", "wait"):
        deps.event_posts.kick(event_id)
        deps.outbox.kick()
    return result


async def cancel(deps: Deps, *, team_id: str, event_id: int, user_id: str) -> store.CancelResult:
    tz, texts = deps.settings.tz, deps.texts
    async with deps.event_gate.lock(event_id):
        result = await store.cancel(
            deps.db,
            team_id=team_id,
            event_id=event_id,
            user_id=user_id,
            now=deps.clock(),
            promoted=lambda event, _u: promoted_dm(texts, event, tz=tz),
        )
    if result.outcome == "cancelled":
        deps.event_posts.kick(event_id)
        deps.outbox.kick()
    return result


# --- the channel post ----------------------------------------------------------------------------


async def publish(deps: Deps, event: Event) -> bool:
    """Queue the event's post in its audience's channel once (later changes update that post)."""
    channel = await channel_of(deps, team_id=event.team_id, audience=event.audience)
    if not channel:
        log.warning("event %s has no channel for its audience", event.id)
        return False
    counts = await store.counts(deps.db, event_id=event.id)
    payload = post_message(deps.texts, event, counts, tz=deps.settings.tz, now=deps.clock())
    async with deps.db.write() as session:
        queued = await outbox.enqueue(
            session,
            team_id=event.team_id,
            key=post_key(event.id),
            kind="post",
            target=channel,
            payload=payload,
            now=deps.clock(),
        )
    if queued:
        await store.mark_shown(deps.db, event_id=event.id, version=event.version)
    else:
        deps.event_posts.kick(event.id)  # posted before: bring that post up to date instead
    deps.outbox.kick()
    return queued


async def refresh(deps: Deps, event_id: int) -> bool:
    """Rewrite the post with today's counts; True when there is nothing to do or it was done."""
    async with deps.db.read() as session:
        event = await session.get(Event, event_id)
    if event is None:
        return True
    sent = await outbox.by_key(deps.db, team_id=event.team_id, key=post_key(event.id))
    if sent is None:  # never published: nothing to keep current (and nothing for the sweep to look at again)
        await store.mark_shown(deps.db, event_id=event.id, version=event.version)
        return True
    if not sent.ts or not sent.channel:
        return False
    counts = await store.counts(deps.db, event_id=event.id)
    payload = post_message(deps.texts, event, counts, tz=deps.settings.tz, now=deps.clock())
    try:
        await deps.client.chat_update(channel=sent.channel, ts=sent.ts, **payload)
    except SlackApiError as exc:
        log.warning("event post not updated: %s", exc.response.get("error"))
        return False
    await store.mark_shown(deps.db, event_id=event.id, version=event.version)
    return True


async def sweep(deps: Deps) -> int:
    """Posts whose update could not be made when it was asked for (not sent yet, Slack away) are made now."""
    stale = await store.stale_posts(deps.db, team_id=deps.team_id, now=deps.clock())
    for event_id in stale:
        deps.event_posts.kick(event_id)
    return len(stale)


# --- saving (modal, import) ----------------------------------------------------------------------


async def saved(
    deps: Deps, event: Event, outcome: str, *, before: Event | None = None, publish_now: bool = False
) -> None:
    """What follows a save: the post's counts, the waitlist when seats were added, the recording."""
    if outcome == "unchanged" and not publish_now:
        if event.archive_url and event.archive_id is None:
            await add_archive(deps, event)
        return
    if before is not None and (before.capacity or 0) < (event.capacity or 10**9):
        tz, texts = deps.settings.tz, deps.texts
        await store.promote_waiting(
            deps.db,
            team_id=event.team_id,
            event_id=event.id,
            now=deps.clock(),
            promoted=lambda ev, _u: promoted_dm(texts, ev, tz=tz),
        )
    if publish_now:
        await publish(deps, event)
    else:
        deps.event_posts.kick(event.id)
    if event.archive_url and (before is None or before.archive_url != event.archive_url or event.archive_id is None):
        await add_archive(deps, event)
    deps.outbox.kick()


async def save(
    deps: Deps, *, team_id: str, spec: store.EventSpec, by: str | None, publish_now: bool = False
) -> tuple[Event, str]:
    before = await store.by_key(deps.db, team_id=team_id, key=spec.key)
    event, outcome = await store.upsert(deps.db, team_id=team_id, spec=spec, by=by)
    await saved(deps, event, outcome, before=before, publish_now=publish_now)
    return event, outcome


async def add_archive(deps: Deps, event: Event) -> int:
    """The recording or FAQ document becomes an /archive entry; those who missed the event get a DM, once."""
    if not event.archive_url:
        return 0
    number = 1
    if event.series_key:
        every = await store.every(deps.db, team_id=event.team_id)
        number = 1 + sum(1 for e in every if e.series_key == event.series_key and e.starts_at < event.starts_at)
    counts = await store.counts(deps.db, event_id=event.id)
    entry, _ = await archives.upsert(
        db=deps.db,
        team_id=event.team_id,
        series=event.title,
        number=number,
        held_on=event.starts_at.astimezone(deps.settings.tz).date(),
        recording_url=event.archive_url,
        attendance=counts.seats,
    )
    await store.set_archive(deps.db, event_id=event.id, archive_id=entry.id)
    sent = 0
    payload = archive_dm(deps.texts, event)
    async with deps.db.write() as session:
        for user in await store.missed(deps.db, event_id=event.id):
            sent += await outbox.enqueue(
                session,
                team_id=event.team_id,
                key=f"events:{event.id}:archive:{user}",
                kind="dm",
                target=user,
                payload=payload,
                now=deps.clock(),
            )
    deps.outbox.kick()
    return sent


# --- survey --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Results:
    scores: list[int]
    seats: int
    missed: int
    topics: list[tuple[str, str | None]]


async def results(deps: Deps, *, event: Event) -> Results:
    """For organisers: a topic shows its author's name only when the member agreed."""
    answers = await store.surveys(deps.db, event_id=event.id)
    topics: list[tuple[str, str | None]] = []
    for row in answers:
        if not row.topic:
            continue
        name = None
        if row.share_name:
            member = await members.get(deps.db, team_id=event.team_id, user_id=row.user_id)
            name = (member.name if member and member.name else None) or f"<@{row.user_id}>"
        topics.append((row.topic, name))
    return Results(
        scores=[r.satisfaction for r in answers if r.satisfaction],
        seats=len(await store.people(deps.db, event_id=event.id, status=store.SEAT)),
        missed=sum(1 for r in answers if r.attended is False),
        topics=topics,
    )


def group_topics(topics: list[str]) -> list[tuple[str, int]]:
    """Requested topics grouped by their folded text (case, width, kana), most asked first."""
    counts: Counter[str] = Counter()
    shown: dict[str, str] = {}
    for topic in topics:
        key = fold(topic.strip())[:200]
        if not key:
            continue
        counts[key] += 1
        shown.setdefault(key, topic.strip()[:200])
    return [(shown[k], n) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], shown[kv[0]]))]


# --- calendars -----------------------------------------------------------------------------------


def _vtimezone() -> icalendar.Timezone:
    """Asia/Tokyo: JST, +09:00 all year (no daylight saving since 1951)."""
    tz = icalendar.Timezone()
    tz.add("tzid", "Asia/Tokyo")
    standard = icalendar.TimezoneStandard()
    standard.add("tzname", "JST")
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", timedelta(hours=9))
    standard.add("tzoffsetto", timedelta(hours=9))
    tz.add_component(standard)
    return tz


def uid_of(event: Event) -> str:
    """Stable across exports and edits: the team and the event's key (an occurrence's key includes its date)."""
    digest = hashlib.sha256(f"{event.team_id}:{event.key}".encode()).hexdigest()[:32]
    return f"{digest}@yakuba"


def calendar(deps: Deps, rows: list[Event], *, name: str) -> bytes:
    """An RFC 5545 calendar of these events, in Asia/Tokyo; never the join link (files can be forwarded)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//yakuba//events//JA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Asia/Tokyo")
    cal.add_component(_vtimezone())
    tz = deps.settings.tz
    for event in rows:
        item = icalendar.Event()
        item.add("uid", uid_of(event))
        item.add("dtstamp", (event.updated_at or event.created_at).astimezone(tz))
        item.add("dtstart", event.starts_at.astimezone(tz))
        item.add("dtend", event.ends_at.astimezone(tz))
        item.add("summary", event.title)
        item.add("sequence", event.version or 0)  # grows with every change, so calendars take the newest
        if event.venue:
            item.add("location", event.venue)
        if event.description:
            item.add("description", event.description[:2000])
        cal.add_component(item)
    return cal.to_ical()


async def send_calendar(deps: Deps, *, user_id: str, rows: list[Event], title: str, comment: str) -> None:
    channel = await files.dm_channel(deps, user_id)
    content = calendar(deps, rows, name=title)
    await files.upload(deps, channel=channel, content=content, filename="events.ics", title=title, comment=comment)


# --- newcomers -----------------------------------------------------------------------------------


async def next_setsumeikai(deps: Deps, *, team_id: str) -> Event | None:
    """The next 説明会 open for sign-up, when the community uses events."""
    if not deps.community.features.events:
        return None
    now = deps.clock()
    for event in await store.upcoming(deps.db, team_id=team_id, now=now, audiences={"all"}, kind="setsumeikai"):
        if store.is_open(event, now):
            return event
    return None


async def with_next_setsumeikai(deps: Deps, payload: dict, *, team_id: str) -> dict:
    """The welcome or approval DM, with the next 説明会 and its sign-up button when there is one."""
    event = await next_setsumeikai(deps, team_id=team_id)
    if event is None:
        return payload
    extra = newcomer_blocks(deps.texts, event, tz=deps.settings.tz)
    return {**payload, "blocks": [*(payload.get("blocks") or []), *extra]}
