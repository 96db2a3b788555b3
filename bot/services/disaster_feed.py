"""Reading JMA's earthquake feed for the disaster watcher: conditional polls, a timeout, back-off while JMA is down.

The watcher (a once-a-minute job) keeps one `FeedState` between ticks — `to_dict()` / `from_dict()` make it
storable — and calls

    entries, state = await poll(session, url, state, now=now)
    for entry in entries:
        quake = await fetch_telegram(session, entry.link)   # FeedUnavailable: leave it pending, try next tick
        ...                                                 # post / update / withdraw
        state = state.done(entry.id)

An entry stays in `pending` until `done`: a telegram that could not be fetched, or a tick that crashed
halfway, is handed out again on the next poll, so nothing JMA published is lost while it is slow or down.
Each poll sends If-None-Match / If-Modified-Since (JMA answers 304 when nothing changed); after a failure
the feed is left alone until `retry_at`, which doubles with each failure in a row up to `MAX_BACKOFF`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from storage.jma import INTENSITY_TITLES, FeedEntry, JmaXmlError, Quake, parse_feed, parse_telegram

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=10)
# JMA's feeds are a few hundred kB and a large quake's VXSE53 about 1 MB; far more is not JMA.
MAX_BYTES = 8 * 1024 * 1024


class FeedUnavailable(Exception):
    """JMA could not be read this time (`reason`: timeout, connection, http 503, malformed, too_large, …)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class FeedState:
    etag: str | None = None
    last_modified: str | None = None  # echoed back exactly as JMA sent it
    seen: tuple[str, ...] = ()  # the entry ids of the last feed read: never handed out twice
    pending: tuple[FeedEntry, ...] = ()  # handed out, not yet `done`
    failures: int = 0
    retry_at: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    _seen_set: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_seen_set", frozenset(self.seen))

    def done(self, entry_id: str) -> FeedState:
        """The watcher has acted on this entry (or decided it never will): stop handing it out."""
        return replace(self, pending=tuple(entry for entry in self.pending if entry.id != entry_id))

    def to_dict(self) -> dict[str, Any]:
        return {
            "etag": self.etag,
            "last_modified": self.last_modified,
            "seen": list(self.seen),
            "pending": [
                {
                    "id": e.id,
                    "title": e.title,
                    "updated": e.updated.isoformat(),
                    "link": e.link,
                    "author": e.author,
                    "content": e.content,
                }
                for e in self.pending
            ],
            "failures": self.failures,
            "retry_at": self.retry_at.isoformat() if self.retry_at else None,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedState:
        def moment(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(
            etag=data.get("etag"),
            last_modified=data.get("last_modified"),
            seen=tuple(data.get("seen", ())),
            pending=tuple(
                FeedEntry(
                    id=e["id"],
                    title=e["title"],
                    updated=datetime.fromisoformat(e["updated"]),
                    link=e["link"],
                    author=e.get("author", ""),
                    content=e.get("content", ""),
                )
                for e in data.get("pending", ())
            ),
            failures=int(data.get("failures", 0)),
            retry_at=moment(data.get("retry_at")),
            last_success=moment(data.get("last_success")),
            last_error=data.get("last_error"),
        )


async def poll(
    session: aiohttp.ClientSession,
    url: str,
    state: FeedState,
    *,
    now: datetime,
    timeout: float = TIMEOUT_SECONDS,
    titles: frozenset[str] = INTENSITY_TITLES,
) -> tuple[tuple[FeedEntry, ...], FeedState]:
    """The entries to act on (pending first, then new ones with one of `titles`, oldest first) and the next state.

    Never raises for JMA's sake: a failure is recorded in the state (failures, retry_at, last_error).
    """
    if state.retry_at is not None and now < state.retry_at:
        return state.pending, state
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        status, body, answer = await _get(session, url, headers=headers, timeout=timeout, allow_not_modified=True)
        if status == 304:
            return state.pending, _succeeded(state, now)
        feed = await asyncio.to_thread(parse_feed, body)
    except FeedUnavailable as exc:
        return state.pending, _failed(state, now, exc)
    except JmaXmlError as exc:
        return state.pending, _failed(state, now, FeedUnavailable(exc.reason))
    fresh = tuple(
        entry
        for entry in sorted(feed.entries, key=lambda entry: entry.updated)
        if entry.id not in state._seen_set and entry.title in titles
    )
    pending = state.pending + fresh
    following = replace(
        _succeeded(state, now),
        etag=answer.get("ETag"),
        last_modified=answer.get("Last-Modified"),
        # Only the current feed's ids: an entry that has left JMA's feed never comes back, so this stays bounded.
        seen=tuple(entry.id for entry in feed.entries),
        pending=pending,
    )
    if fresh:
        log.info("jma feed: %d new entries", len(fresh))
    return pending, following


async def fetch_telegram(session: aiohttp.ClientSession, url: str, *, timeout: float = TIMEOUT_SECONDS) -> Quake:
    """One telegram, parsed; FeedUnavailable when JMA could not give it or it is not a usable telegram."""
    _, body, _ = await _get(session, url, headers={}, timeout=timeout, allow_not_modified=False)
    try:
        # A big quake's telegram takes tens of milliseconds to read: off the loop, so acks are not held up.
        return await asyncio.to_thread(parse_telegram, body)
    except JmaXmlError as exc:
        raise FeedUnavailable(exc.reason) from exc


def backoff(failures: int) -> timedelta:
    """30 s, 1 min, 2 min, … doubling with each failure in a row, at most MAX_BACKOFF."""
    if failures <= 0:
        return timedelta(0)
    return min(FIRST_BACKOFF * 2 ** min(failures - 1, 16), MAX_BACKOFF)


async def _get(
    session: aiohttp.ClientSession, url: str, *, headers: dict[str, str], timeout: float, allow_not_modified: bool
) -> tuple[int, bytes, dict[str, str]]:
    try:
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            answer = {key: response.headers[key] for key in ("ETag", "Last-Modified") if key in response.headers}
            if response.status == 304 and allow_not_modified:
                return 304, b"", answer
            if response.status != 200:
                raise FeedUnavailable(f"http {response.status}", retry_after=_retry_after(response))
            body = await response.content.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise FeedUnavailable("too_large")
            return 200, body, answer
    except TimeoutError as exc:
        raise FeedUnavailable("timeout") from exc
    except aiohttp.ClientError as exc:
        raise FeedUnavailable(f"connection: {type(exc).__name__}") from exc


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _succeeded(state: FeedState, now: datetime) -> FeedState:
    return replace(state, failures=0, retry_at=None, last_success=now, last_error=None)


def _failed(state: FeedState, now: datetime, exc: FeedUnavailable) -> FeedState:
    failures = state.failures + 1
    wait = backoff(failures)
    if exc.retry_after is not None:
        wait = max(wait, timedelta(seconds=min(exc.retry_after, MAX_BACKOFF.total_seconds())))
    seconds = int(wait.total_seconds())
    log.warning("jma feed unavailable (%s), failure %d in a row, next try in %ds", exc.reason, failures, seconds)
    return replace(state, failures=failures, retry_at=now + wait, last_error=exc.reason)
