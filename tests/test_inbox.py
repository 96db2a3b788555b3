"""The inbox: acked requests are stored before their ack, worked on once after it, and survive a crash."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy.exc import OperationalError

import storage.inbox
from bot.app import create_app
from bot.blocks.help import help_message
from bot.local import requests as req
from bot.server import init_web
from bot.slack.inbox import Inbox
from bot.slack.slash import opens_form
from handlers import COMMANDS
from storage import inbox as store
from storage.models import InboxItem
from storage.types import utcnow
from tests.conftest import SignedSlack


def join(signed: SignedSlack, user_id: str) -> dict:
    return req.team_join_event(signed.slack.user(user_id))


async def backlog(signed: SignedSlack) -> int:
    return await store.pending_count(signed.yakuba.deps.db, team_id=signed.yakuba.deps.team_id)


@pytest.fixture
def held(monkeypatch) -> asyncio.Event:
    """The worker finds nothing to do until the test sets the returned event."""
    release = asyncio.Event()
    claim = storage.inbox.claim

    async def held_claim(*args, **kwargs):
        await release.wait()
        return await claim(*args, **kwargs)

    monkeypatch.setattr(storage.inbox, "claim", held_claim)
    return release


async def test_an_event_is_stored_before_its_ack_and_worked_on_after(signed, people, held):
    response = await signed.event(join(signed, people.member))
    assert response.status == 200 and await response.text() == ""
    assert await backlog(signed) == 1  # stored, not yet worked on: a crash now loses nothing
    assert signed.slack.dm_messages(people.member) == []
    held.set()
    await signed.settle()
    assert len(signed.slack.dm_messages(people.member)) == 1
    assert await backlog(signed) == 0  # done rows are deleted (they hold what Slack sent)


async def test_a_slack_retry_of_a_stored_event_is_acked_and_kept_once(signed, people, held):
    event = join(signed, people.member)
    for retry in (None, "1", "2"):
        headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        response = await signed.post(req.event_body(event, event_id="EvRETRY1"), headers=headers)
        assert response.status == 200
    assert await backlog(signed) == 1
    held.set()
    await signed.settle()
    assert len(signed.slack.dm_messages(people.member)) == 1


async def test_a_socket_mode_event_is_stored_and_worked_on_alike(signed, people, held):
    envelope_payload = json.loads(req.event_body(join(signed, people.member)))  # Socket Mode hands bolt a dict
    response = await signed.yakuba.bolt.async_dispatch(AsyncBoltRequest(body=envelope_payload, mode="socket_mode"))
    assert response.status == 200
    assert await backlog(signed) == 1
    held.set()
    await signed.settle()
    assert len(signed.slack.dm_messages(people.member)) == 1


async def test_rows_a_crash_left_behind_are_worked_on_after_the_restart(
    aiohttp_client, settings, slack, people, held, clock
):
    first = create_app(settings, clock=clock)
    http = await aiohttp_client(init_web(first))
    crashed = SignedSlack(http=http, yakuba=first, slack=slack, clock=clock)
    assert (await crashed.event(join(crashed, people.member))).status == 200
    assert await backlog(crashed) == 1
    first.deps.inbox._worker.cancel()  # the process dies before its worker took the row
    await http.close()
    assert slack.dm_messages(people.member) == []

    held.set()
    second = create_app(settings, clock=clock)
    restarted = SignedSlack(http=await aiohttp_client(init_web(second)), yakuba=second, slack=slack, clock=clock)
    await restarted.settle()
    assert len(slack.dm_messages(people.member)) == 1
    assert await backlog(restarted) == 0


async def test_when_the_row_cannot_be_stored_the_event_is_worked_on_in_memory(signed, people, monkeypatch, caplog):
    async def refuse(self, rows):
        raise OperationalError("INSERT INTO inbox", {}, Exception("disk I/O error"))

    monkeypatch.setattr(storage.inbox.Writer, "put_many", refuse)
    with caplog.at_level(logging.WARNING, logger="bot.slack.inbox"):
        response = await signed.event(join(signed, people.member))
        assert response.status == 200
        await signed.settle()
    assert len(signed.slack.dm_messages(people.member)) == 1
    assert "worked on in memory" in caplog.text


@pytest.fixture
def always(settings):
    return settings.model_copy(update={"yakuba_defer_commands": "always"})


@pytest.fixture
async def busy(aiohttp_client, always, slack, clock) -> SignedSlack:
    """yakuba as it answers while busy: every command that opens no form goes to the worker."""
    yakuba = create_app(always, clock=clock)
    return SignedSlack(http=await aiohttp_client(init_web(yakuba)), yakuba=yakuba, slack=slack, clock=clock)


async def test_a_busy_server_acks_a_command_empty_and_answers_through_response_url(busy, people):
    response = await busy.command(people.member, "/yakuba", "help")
    assert response.status == 200 and await response.text() == ""
    await busy.settle()
    [reply] = busy.slack.responses
    menu = busy.yakuba.deps.help_menu
    expected = help_message(busy.yakuba.deps.texts, menu.commands, menu.staff)
    assert reply.args["text"] == expected["text"] and reply.args["response_type"] == "ephemeral"


async def test_commands_that_open_a_form_are_answered_at_the_front_even_when_busy(busy, people):
    response = await busy.command(people.member, "/register")
    assert response.status == 200
    await busy.settle()
    assert len(busy.slack.open_views(people.member)) == 1
    await busy.command(people.organizer, "/faq", "add")
    await busy.settle()
    assert len(busy.slack.open_views(people.organizer)) == 1
    assert await backlog(busy) == 0 and busy.slack.responses == []  # neither went through the inbox


DEFERRED = [
    ("/faq", ""),
    ("/faq", "ワクチン"),
    ("/faq", "auto"),
    ("/archive", ""),
    ("/archive", "予約"),
    ("/programs", ""),
    ("/programs", "week"),
    ("/programs", "subscribe 朝礼"),
    ("/kenjinkai", ""),
    ("/kenjinkai", "members"),
    ("/ka", "list"),
    ("/ka", "join 防災"),
    ("/members", "stats"),
    ("/approvals", ""),
    ("/mydata", "export"),
    ("/yakuba", ""),
    ("/yakuba", "unknown"),
    ("/announce", "status"),
    ("/announce", "help"),
    ("/announce", "#general テスト"),
]


async def test_every_deferred_command_answers_without_a_form(busy, people):
    """Each SlashCommand.opens_form lists what must stay at the front; everything else must open no form."""
    for command, text in DEFERRED:
        assert not opens_form(COMMANDS, command, text)
        response = await busy.command(people.organizer, command, text)
        assert response.status == 200 and await response.text() == "", (command, text)
    await busy.settle()
    assert busy.slack.calls_to("views.open") == []
    assert len(busy.slack.responses) >= len(DEFERRED)  # each answered through its response_url


async def test_the_worker_yields_to_requests_in_flight_but_not_forever(signed):
    inbox: Inbox = signed.yakuba.deps.inbox
    inbox.MAX_YIELD = 0.3
    loop = asyncio.get_running_loop()
    fresh = InboxItem(received_at=utcnow())
    inbox.entering()  # a request in flight
    try:
        inbox._last_start = loop.time()
        started = loop.time()
        await inbox._yield_to_front(fresh)
        assert loop.time() - started >= 0.25  # waited for the floor of progress
        old = InboxItem(received_at=utcnow().replace(year=2000))
        started = loop.time()
        await inbox._yield_to_front(old)  # waited long enough already
        assert loop.time() - started < 0.1
    finally:
        inbox.leaving()


async def test_healthz_reports_the_inbox_backlog(signed, people, held):
    await signed.event(join(signed, people.member))
    health = await (await signed.http.get("/healthz")).json()
    assert health["inbox_pending"] == 1
    held.set()
    await signed.settle()
    health = await (await signed.http.get("/healthz")).json()
    assert health["inbox_pending"] == 0


async def test_if_the_worker_dies_requests_are_worked_on_as_they_come(signed, people, monkeypatch, caplog):
    async def broken(self, row, gate):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Inbox, "_take", broken)
    with caplog.at_level(logging.ERROR, logger="bot.slack.inbox"):
        await signed.event(join(signed, people.member))  # stored; the worker dies on it
        await signed.settle()
    assert "the worker stopped (RuntimeError)" in caplog.text
    assert not signed.yakuba.deps.inbox.running
    await signed.event(join(signed, people.organizer))  # worked on inline, as without an inbox
    await signed.settle()
    assert len(signed.slack.dm_messages(people.organizer)) == 1
    assert await backlog(signed) == 1  # the first stays stored for the next start
