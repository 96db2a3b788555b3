"""The watcher's feed reader against FakeJma: conditional polls, nothing lost or repeated, back-off when JMA fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.services.disaster_feed import MAX_BACKOFF, FeedState, FeedUnavailable, backoff, fetch_telegram, poll
from storage.jma import TITLE_HYPOCENTRE, InfoType
from tests.fake_jma import FakeJma, started_fake_jma

T0 = datetime(2026, 11, 19, 17, 21, tzinfo=UTC)
FLASH, REPORT, CORRECTED = "vxse51_saitama_5plus.xml", "vxse53_saitama_5plus.xml", "vxse53_saitama_5plus_corrected.xml"


@pytest.fixture
async def jma() -> FakeJma:
    server = await started_fake_jma()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> aiohttp.ClientSession:
    async with aiohttp.ClientSession() as session:
        yield session


def names(jma: FakeJma, entries) -> list[str]:
    return [entry.link.removeprefix(jma.url_for("")) for entry in entries]


async def test_new_entries_once_then_304_while_nothing_changes(jma: FakeJma, http: aiohttp.ClientSession):
    flash = jma.publish(FLASH)
    jma.publish(REPORT)
    jma.publish("vxse52.xml", data=b"<x/>", title=TITLE_HYPOCENTRE, at=flash.at + timedelta(seconds=30))
    entries, state = await poll(http, jma.feed_url, FeedState(), now=T0)
    # Oldest first, and only telegrams that carry intensities.
    assert names(jma, entries) == [FLASH, REPORT]
    assert state.etag and state.last_modified and state.last_success == T0
    for entry in entries:
        state = state.done(entry.id)
    again, state = await poll(http, jma.feed_url, state, now=T0 + timedelta(minutes=1))
    assert again == ()
    assert jma.count("feed", status=304) == 1
    assert jma.requests[-1].if_none_match == state.etag
    assert jma.requests[-1].if_modified_since == state.last_modified
    jma.publish(CORRECTED)
    later, state = await poll(http, jma.feed_url, state, now=T0 + timedelta(minutes=2))
    assert names(jma, later) == [CORRECTED]
    assert jma.count("feed", status=200) == 2


async def test_an_entry_not_done_is_handed_out_again(jma: FakeJma, http: aiohttp.ClientSession):
    jma.publish(REPORT)
    jma.fail(REPORT, status=503)
    entries, state = await poll(http, jma.feed_url, FeedState(), now=T0)
    with pytest.raises(FeedUnavailable) as unavailable:
        await fetch_telegram(http, entries[0].link)
    assert unavailable.value.reason == "http 503"
    # Not done: the next tick gets it again even though the feed answers 304.
    retried, state = await poll(http, jma.feed_url, state, now=T0 + timedelta(minutes=1))
    assert jma.requests[-1].status == 304
    assert retried == entries
    quake = await fetch_telegram(http, retried[0].link)
    assert (quake.event_id, quake.info_type) == ("20261120021412", InfoType.ISSUED)
    state = state.done(retried[0].id)
    assert (await poll(http, jma.feed_url, state, now=T0 + timedelta(minutes=2)))[0] == ()


async def test_500_backs_off_without_asking_then_catches_up(jma: FakeJma, http: aiohttp.ClientSession):
    jma.publish(FLASH)
    entries, state = await poll(http, jma.feed_url, FeedState(), now=T0)
    state = state.done(entries[0].id)
    outage = jma.fail("feed", status=500, times=None)
    jma.publish(REPORT)  # published while JMA's feed answers 500
    moment = T0 + timedelta(minutes=1)
    got, state = await poll(http, jma.feed_url, state, now=moment)
    assert got == ()
    assert (state.failures, state.last_error, state.retry_at) == (1, "http 500", moment + backoff(1))
    asked = jma.count("feed")
    # Inside the back-off the feed is left alone.
    _, state = await poll(http, jma.feed_url, state, now=moment + backoff(1) - timedelta(seconds=1))
    assert jma.count("feed") == asked
    for failures in (2, 3):
        moment = state.retry_at
        _, state = await poll(http, jma.feed_url, state, now=moment)
        assert state.failures == failures and state.retry_at == moment + backoff(failures)
    jma.lift(outage)
    recovered, state = await poll(http, jma.feed_url, state, now=state.retry_at)
    assert names(jma, recovered) == [REPORT]
    assert (state.failures, state.retry_at, state.last_error) == (0, None, None)
    assert jma.count("feed", status=500) == 3


def test_backoff_doubles_up_to_its_bound():
    assert [backoff(n).total_seconds() for n in range(0, 6)] == [0, 30, 60, 120, 240, 480]
    assert backoff(7) == backoff(100) == MAX_BACKOFF


async def test_retry_after_is_honoured(jma: FakeJma, http: aiohttp.ClientSession):
    jma.fail("feed", status=503, retry_after=300)
    _, state = await poll(http, jma.feed_url, FeedState(), now=T0)
    assert state.retry_at == T0 + timedelta(seconds=300)


async def test_a_hanging_feed_times_out_and_the_next_poll_gets_everything(jma: FakeJma, http: aiohttp.ClientSession):
    jma.publish(FLASH)
    jma.hang("feed", bound=30)
    entries, state = await poll(http, jma.feed_url, FeedState(), now=T0, timeout=0.3)
    assert entries == () and state.last_error == "timeout" and state.failures == 1
    jma.release()
    entries, state = await poll(http, jma.feed_url, state, now=state.retry_at)
    assert names(jma, entries) == [FLASH]


async def test_malformed_feed_and_telegram_are_failures_not_crashes(jma: FakeJma, http: aiohttp.ClientSession):
    jma.publish(REPORT)
    jma.malformed("feed")
    entries, state = await poll(http, jma.feed_url, FeedState(), now=T0)
    assert entries == () and state.last_error == "malformed"
    entries, state = await poll(http, jma.feed_url, state, now=state.retry_at)
    jma.malformed("telegram")
    with pytest.raises(FeedUnavailable) as cut:
        await fetch_telegram(http, entries[0].link)
    assert cut.value.reason == "malformed"
    assert (await fetch_telegram(http, entries[0].link)).serial == 1


async def test_unreachable_feed_is_a_connection_failure(http: aiohttp.ClientSession):
    gone = await started_fake_jma()
    url = gone.feed_url
    await gone.stop()
    entries, state = await poll(http, url, FeedState(), now=T0)
    assert entries == () and state.failures == 1 and state.last_error.startswith("connection")


async def test_state_survives_a_restart_as_json(jma: FakeJma, http: aiohttp.ClientSession):
    jma.publish(FLASH)
    jma.publish(REPORT)
    entries, state = await poll(http, jma.feed_url, FeedState(), now=T0)
    state = state.done(entries[0].id)
    restored = FeedState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    # After the restart: the unfinished entry again, the finished one never, and a 304 for the feed.
    again, _ = await poll(http, jma.feed_url, restored, now=T0 + timedelta(minutes=1))
    assert names(jma, again) == [REPORT]
    assert jma.requests[-1].status == 304
