"""Disaster check-ins: JMA telegrams to check-in posts (once per event and prefecture), answers, tallies, drills.

The watcher (schedules/disaster.py, once a minute) reads the feed with bot/services/disaster_feed.py and acts on
each new telegram: drills and tests (Status drill/test) never reach members, a cancellation marks the event's
posts withdrawn, a later report of the same EventID rewrites the existing post, and a prefecture reaching
YAKUBA_DISASTER_MIN_INTENSITY with an association channel gets one post, keyed in the database and sent through
the outbox. The first read of a feed only remembers what is in it: an earthquake from before the bot was
watching is never posted.

A post's tally is kept current by `CheckinRefresher`: a press asks for an update, presses arriving meanwhile
are folded into the next one, and one post is updated at most once per `interval` (Slack's per-channel pace).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.blocks.disaster import checkin_message, help_dm
from bot.services.disaster_feed import TIMEOUT_SECONDS, FeedState, FeedUnavailable, fetch_telegram, poll
from bot.slack.context import Deps
from bot.slack.permissions import is_organizer
from bot.slack.refresher import PacedRefresher
from storage import disaster as store
from storage import members, outbox, prefectures
from storage.jma import TITLE_HYPOCENTRE_INTENSITY, Intensity, PrefIntensity, Quake
from storage.models import DisasterCheckin

log = logging.getLogger(__name__)

# Reasons a telegram is never going to be usable (a truncated transfer, "malformed", is tried again).
UNUSABLE = ("unsafe", "unexpected")


@dataclass
class Outcome:
    """What one tick or one replay did, in counts (the job's detail line; no personal data)."""

    posted: int = 0
    updated: int = 0
    withdrawn: int = 0
    not_real: int = 0
    no_channel: int = 0
    pending: int = 0
    state: str = "ok"  # ok | off | primed | feed error kind

    def detail(self) -> str:
        return (
            f"{self.state} posted={self.posted} updated={self.updated} withdrawn={self.withdrawn} "
            f"not_real={self.not_real} no_channel={self.no_channel} pending={self.pending}"
        )


# ------------------------------------------------------------------ the post and its tally
def render(deps: Deps, checkin: DisasterCheckin, tally: store.Tally | None = None) -> dict[str, Any]:
    empty = store.Tally(checkin.version, {status: 0 for status in store.STATUSES})
    return checkin_message(deps.texts, checkin, tally or empty, deps.settings.tz)


async def refresh(deps: Deps, checkin_id: int) -> bool:
    """Rewrite the post with what the check-in knows now; False when it is not posted yet (tried again later)."""
    checkin = await store.get(deps.db, checkin_id=checkin_id)
    if checkin is None:
        return False
    sent = await outbox.by_key(deps.db, team_id=checkin.team_id, key=store.post_key(checkin.id))
    if sent is None or not sent.ts or not sent.channel:
        return False
    tally = await store.tally(deps.db, checkin_id=checkin.id)
    try:
        await deps.client.chat_update(channel=sent.channel, ts=sent.ts, **render(deps, checkin, tally))
    except SlackApiError as exc:
        log.warning("check-in post not updated: %s", exc.response.get("error"))
        return False
    await store.mark_shown(deps.db, checkin_id=checkin.id, version=tally.version)
    return True


class CheckinRefresher(PacedRefresher):
    """The check-in posts' tallies, kept current by the shared paced refresher (bot/slack/refresher.py)."""

    def __init__(self, deps: Deps) -> None:
        super().__init__(deps, refresh, name="disaster.refresh")


# ------------------------------------------------------------------ from telegrams to posts
def info_of(quake: Quake, pref: PrefIntensity, level: Intensity) -> dict[str, Any]:
    """What a post shows of one prefecture in one telegram (stored as the check-in's `info`)."""
    occurred = quake.occurred_at
    return {
        "title": quake.title,
        "report_time": quake.report_time.astimezone(UTC).isoformat(),  # one offset: compared as text below
        "occurred_at": occurred.isoformat() if occurred else None,
        "epicentre": quake.epicentre,
        "magnitude": quake.magnitude,
        "max_int": pref.max_int.code if pref.max_int else None,
        "level": level.code,
        "cities": [city.name for city in pref.cities_at_least(level)],
        "unreported": any(city.unreported for city in pref.cities),
    }


def _rank(info: dict[str, Any]) -> tuple[str, bool]:
    # Later reports win; at the same moment 震源・震度に関する情報 (cities, hypocentre) wins over 震度速報.
    return (info.get("report_time") or "", info.get("title") == TITLE_HYPOCENTRE_INTENSITY)


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A later report replaces what it says; what it does not say (震度速報 has no hypocentre) is kept."""
    return {**old, **{key: value for key, value in new.items() if value not in (None, "", [])}}


async def act(deps: Deps, quake: Quake, *, now: datetime, drill: bool = False) -> Outcome:
    """Post, update or withdraw for one telegram. `drill`: a replay (every post marked 訓練, its own event key)."""
    outcome = Outcome()
    team = deps.team_id
    if not quake.is_real and not drill:
        outcome.not_real += 1
        return outcome
    if quake.is_cancellation:
        if not drill:
            for checkin_id in await store.withdraw(deps.db, team_id=team, event_id=quake.event_id):
                outcome.withdrawn += 1
                deps.checkins.kick(checkin_id)
        return outcome
    level = Intensity(deps.settings.yakuba_disaster_min_intensity)
    event_id = f"drill:{now.strftime('%Y%m%dT%H%M%S')}:{quake.event_id}" if drill else quake.event_id
    existing = {row.pref_code: row for row in await store.of_event(deps.db, team_id=team, event_id=event_id)}
    for pref in quake.prefectures_at_least(level):
        info = info_of(quake, pref, level)
        known = existing.get(pref.code)
        if known is None:
            channel = await prefectures.channel_for(deps.db, team_id=team, pref_code=pref.code)
            if channel is None:
                outcome.no_channel += 1
                continue
            created = await store.open_checkin(
                deps.db,
                team_id=team,
                event_id=event_id,
                pref_code=pref.code,
                channel_id=channel.channel_id,
                kind="quake",
                info=info,
                drill=drill,
                render=lambda row: render(deps, row),
                now=now,
            )
            if created is not None:
                outcome.posted += 1
                continue
            known = next(
                r for r in await store.of_event(deps.db, team_id=team, event_id=event_id) if r.pref_code == pref.code
            )
        later = not known.withdrawn and _rank(info) > _rank(known.info or {})
        if later and await store.revise(deps.db, checkin_id=known.id, info=_merged(known.info or {}, info)):
            outcome.updated += 1
            deps.checkins.kick(known.id)
    if outcome.no_channel:
        log.info("disaster: %d prefectures reached the minimum without an association channel", outcome.no_channel)
    if outcome.posted:
        deps.outbox.kick()
    return outcome


async def watch(
    deps: Deps, *, now: datetime, http: aiohttp.ClientSession | None = None, timeout: float = TIMEOUT_SECONDS
) -> Outcome:
    """One tick of the watcher: poll, act on each new telegram in order, remember where it got to."""
    url = deps.settings.yakuba_jma_feed_url
    if not url:
        return Outcome(state="off")
    stored = await store.feed_state(deps.db, team_id=deps.team_id, url=url)
    primed = bool(stored and stored.get("primed"))
    state = FeedState.from_dict(stored["feed"]) if stored and stored.get("feed") else FeedState()
    outcome = Outcome()
    own = http is None
    session = aiohttp.ClientSession() if own else http
    try:
        entries, state = await poll(session, url, state, now=now, timeout=timeout)
        if not primed:
            if state.last_success != now:  # the feed could not be read: nothing to remember yet
                outcome.state = state.last_error or "error"
                await _save(deps, url, state, primed=False, now=now)
                return outcome
            # The first read: what is in the feed already happened before we watched. Remember, post nothing.
            for entry in entries:
                state = state.done(entry.id)
            await _save(deps, url, state, primed=True, now=now)
            outcome.state = "primed"
            return outcome
        for entry in entries:
            try:
                quake = await fetch_telegram(session, entry.link, timeout=timeout)
            except FeedUnavailable as exc:
                if exc.reason in UNUSABLE:
                    log.warning("jma telegram unusable (%s): skipped", exc.reason)
                    state = state.done(entry.id)
                    continue
                # Left pending, in order: the next tick fetches it (and those after it) again.
                log.warning("jma telegram not fetched (%s): tried again next tick", exc.reason)
                state = replace(state, last_error=exc.reason)
                break
            done = await act(deps, quake, now=now)
            for name in ("posted", "updated", "withdrawn", "not_real", "no_channel"):
                setattr(outcome, name, getattr(outcome, name) + getattr(done, name))
            state = state.done(entry.id)
            await _save(deps, url, state, primed=True, now=now)
        outcome.pending = len(state.pending)
        outcome.state = state.last_error or "ok"
        await _save(deps, url, state, primed=True, now=now)
    finally:
        if own:
            await session.close()
    # Posts whose update could not be made when it was asked for (not sent yet, Slack away) are made now.
    for checkin_id in await store.behind(deps.db, team_id=deps.team_id):
        deps.checkins.kick(checkin_id)
    return outcome


async def _save(deps: Deps, url: str, state: FeedState, *, primed: bool, now: datetime) -> None:
    await store.save_feed_state(
        deps.db, team_id=deps.team_id, url=url, state={"primed": primed, "feed": state.to_dict()}, now=now
    )


async def health(deps: Deps) -> dict[str, Any] | None:
    """For /healthz: when the feed was last read, and the kind of the last error (None when the feature is off)."""
    url = deps.settings.yakuba_jma_feed_url
    if not url or not deps.team_id:
        return None
    stored = await store.feed_state(deps.db, team_id=deps.team_id, url=url)
    state = FeedState.from_dict(stored["feed"]) if stored and stored.get("feed") else FeedState()
    return {
        "last_success": state.last_success.isoformat() if state.last_success else None,
        "last_error": state.last_error,
        "failures": state.failures,
    }


async def replay(deps: Deps, quake: Quake, *, now: datetime) -> Outcome:
    """`yakuba disaster replay FILE`: a saved telegram posted as a drill, every post marked 訓練 (a new event key
    each time, so a drill can be run again and never touches the posts of a real earthquake)."""
    outcome = await act(deps, quake, now=now, drill=True)
    await deps.outbox.flush()
    return outcome


# ------------------------------------------------------------------ members' answers
async def may_see(deps: Deps, *, team_id: str, user_id: str, pref_code: str) -> bool:
    """Organisers, and the leads of that prefecture's 県人会."""
    if await is_organizer(deps, user_id):
        return True
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    return bool(
        member is not None
        and member.is_lead
        and member.status == "approved"
        and member.left_at is None
        and member.pref_code == pref_code
    )


async def helpers(deps: Deps, *, team_id: str, pref_code: str) -> list[str]:
    """Who is told at once when someone needs help: the configured organisers and the prefecture's leads."""
    leads = (await members.association(deps.db, team_id=team_id, pref_code=pref_code)).leads
    return sorted(set(deps.settings.organizers) | set(leads))


async def answer(deps: Deps, *, team_id: str, checkin_id: int, user_id: str, status: str) -> DisasterCheckin | None:
    """A press: recorded (last press wins), the tally refreshed soon, helpers told at once of 支援が必要."""
    checkin = await store.record(
        deps.db, checkin_id=checkin_id, team_id=team_id, user_id=user_id, status=status, now=deps.clock()
    )
    if checkin is None:
        return None
    deps.checkins.kick(checkin.id)
    if status == "need_help":
        recipients = [
            who for who in await helpers(deps, team_id=team_id, pref_code=checkin.pref_code) if who != user_id
        ]
        payload = help_dm(deps.texts, checkin, user_id)
        if await store.ask_for_help(
            deps.db, checkin=checkin, user_id=user_id, recipients=recipients, payload=payload, now=deps.clock()
        ):
            deps.outbox.kick()
    return checkin


async def start_manual(
    deps: Deps, *, team_id: str, user_id: str, channel_id: str, message: str, request_key: str = ""
) -> tuple[str, DisasterCheckin | None]:
    """`/kenjinkai checkin [message]` in a 県人会 channel: ("started", row) or the refusal's catalogue key.

    `request_key` is the command's trigger_id: Slack may deliver one command twice, and the same trigger_id
    is the same check-in (posted once; the row is None for the repeat)."""
    channel = await prefectures.by_channel(deps.db, team_id=team_id, channel_id=channel_id)
    if channel is None:
        return "disaster.checkin.not_kenjinkai", None
    if not await may_see(deps, team_id=team_id, user_id=user_id, pref_code=channel.pref_code):
        return "disaster.checkin.refused", None
    checkin = await store.open_checkin(
        deps.db,
        team_id=team_id,
        event_id=f"manual:{request_key[:48] or uuid.uuid4().hex}",
        pref_code=channel.pref_code,
        channel_id=channel.channel_id,
        kind="manual",
        info={"message": message.strip()[:1500]} if message.strip() else {},
        render=lambda row: render(deps, row),
        now=deps.clock(),
        created_by=user_id,
    )
    deps.outbox.kick()
    return "disaster.checkin.started", checkin
