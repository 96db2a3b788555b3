"""The Slack boundary of `yakuba serve`: signatures, timestamps, health, and bad input."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.local import requests as req
from storage.models import Member, OutboxMessage, SeenEvent


async def count(signed, model) -> int:
    async with signed.yakuba.deps.db.read() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_healthz_reports_database(signed):
    response = await signed.http.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["ok"] is True and body["database"] == "ok"


async def test_bad_signature_is_401_and_changes_nothing(signed, people):
    body = req.event_body(req.team_join_event(signed.slack.user(people.member)))
    response = await signed.post(body, secret="not-the-secret")
    assert response.status == 401
    await signed.settle()
    assert await count(signed, SeenEvent) == 0
    assert await count(signed, Member) == 0
    assert signed.slack.calls_to("chat.postMessage") == []


async def test_stale_timestamp_is_401(signed, people):
    body = req.event_body(req.team_join_event(signed.slack.user(people.member)))
    response = await signed.post(body, timestamp=int(time.time()) - 6 * 60)
    assert response.status == 401
    await signed.settle()
    assert await count(signed, OutboxMessage) == 0


async def test_unsigned_request_is_401(signed):
    response = await signed.http.post(
        "/slack/events", data=b'{"type":"event_callback"}', headers={"Content-Type": "application/json"}
    )
    assert response.status == 401


async def test_url_verification_answers_challenge(signed):
    response = await signed.post(req.url_verification_body("abc123"))
    assert response.status == 200
    assert (await response.json())["challenge"] == "abc123"


async def test_malformed_payloads_are_refused_without_traceback(signed):
    for body in (
        b"payload=%7Bnot-json",
        b"{not json",
        b"\x00garbage\x01",
        b"payload=%22just-a-string%22",
        b"[1,2,3]",
        b"payload=" + b"x" * 1000,
    ):
        response = await signed.post(body)
        assert response.status < 500, body
        text = await response.text()
        assert "Traceback" not in text
    await signed.settle()
    assert await count(signed, SeenEvent) == 0


async def test_undecodable_bytes_are_refused(signed):
    response = await signed.http.post(
        "/slack/events",
        data=b"\xff\xfe\x00garbage",
        headers={
            "Content-Type": "application/json",
            "X-Slack-Signature": "v0=00",
            "X-Slack-Request-Timestamp": str(int(time.time())),
        },
    )
    assert response.status == 401


async def test_oversized_body_is_refused(signed):
    response = await signed.post(b"x" * (600 * 1024))
    assert response.status == 413


async def test_unknown_command_gets_ephemeral_help(signed, people):
    response = await signed.command(people.member, "/nosuchcommand", "<!channel> hello")
    assert response.status == 200
    body = await response.json()
    assert body["response_type"] == "ephemeral"
    texts = signed.yakuba.deps.texts
    assert body["text"] == texts("help.title")
    rendered = str(body["blocks"])
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered


async def test_yakuba_help_lists_every_command(signed, people):
    response = await signed.command(people.member, "/yakuba", "help")
    body = await response.json()
    rendered = str(body["blocks"])
    for command in (
        "register",
        "faq",
        "archive",
        "programs",
        "kenjinkai",
        "ka",
        "members",
        "announce",
        "approvals",
        "mydata",
        "yakuba",
    ):
        assert f"/{command}`" in rendered


async def test_message_button_forged_inside_a_modal_is_answered_quietly(signed, people, caplog):
    view = {"id": "V0FORGED", "type": "modal", "callback_id": "x", "blocks": []}
    body = req.block_actions_body(user_id=people.member, action_id="approval.approve", value="1", view=view)
    started = time.monotonic()
    response = await signed.post(body)
    await signed.settle()
    assert response.status == 200
    assert time.monotonic() - started < 2.5  # no wait for an ack that never comes
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
