"""Signed requests whose envelope has the wrong shape are refused with 400 before bolt, never with a 500."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.local import requests as req
from bot.socket_mode import MeasuredHandler
from storage.models import SeenEvent
from tests.test_server import count


def _event_envelope(**changes: object) -> bytes:
    envelope = json.loads(req.event_body({"type": "app_mention", "user": "U1", "text": "hi", "channel": "C1"}))
    for key, value in changes.items():
        if value is _MISSING:
            envelope.pop(key, None)
        else:
            envelope[key] = value
    return json.dumps(envelope).encode()


def _payload(value: object) -> bytes:
    return urlencode({"payload": json.dumps(value)}).encode()


_MISSING = object()
BROKEN = {
    "event is a string": _event_envelope(event="app_mention"),
    "event is a list": _event_envelope(event=[{"type": "app_mention"}]),
    "event is missing": _event_envelope(event=_MISSING),
    "event is null": _event_envelope(event=None),
    "event type is a number": _event_envelope(event={"type": 5, "user": "U1"}),
    "event has no type": _event_envelope(event={"user": "U1"}),
    "event_id is a list": _event_envelope(event_id=["Ev1"]),
    "team_id is an object": _event_envelope(team_id={"id": "T1"}),
    "payload is a list": _payload([{"type": "block_actions"}]),
    "payload is a string": _payload("block_actions"),
    "payload is a number": _payload(7),
    "payload is null": _payload(None),
    "payload type is a list": _payload({"type": ["block_actions"], "user": {"id": "U1"}}),
    "actions is a string": _payload({"type": "block_actions", "user": {"id": "U1"}, "actions": "approve"}),
    "an action is a string": _payload({"type": "block_actions", "user": {"id": "U1"}, "actions": ["approve"]}),
    "user is a string": _payload({"type": "block_actions", "user": "U1", "actions": []}),
    "view is a string": _payload({"type": "view_submission", "user": {"id": "U1"}, "view": "V1"}),
    "view state is a list": _payload(
        {"type": "view_submission", "user": {"id": "U1"}, "view": {"id": "V1", "state": []}}
    ),
    "team is a string": _payload({"type": "block_actions", "user": {"id": "U1"}, "team": "T1", "actions": []}),
    "container is a list": _payload({"type": "block_actions", "user": {"id": "U1"}, "container": [], "actions": []}),
    "suggestion value is an object": _payload(
        {"type": "block_suggestion", "user": {"id": "U1"}, "action_id": "x", "value": {"q": 1}}
    ),
    "body is a JSON string": b'"event_callback"',
    "body is a JSON list": b'[{"type": "event_callback"}]',
}


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_a_signed_envelope_of_the_wrong_shape_is_refused_with_400(signed, name):
    body = BROKEN[name]
    json_body = body[:1] in (b"{", b"[", b'"')
    response = await signed.post(body, headers={"Content-Type": "application/json"} if json_body else None)
    assert response.status == 400, (name, await response.text())
    assert "Traceback" not in await response.text()
    await signed.settle()
    assert await count(signed, SeenEvent) == 0
    assert not signed.slack.calls_to("chat.postMessage")


async def test_an_unsigned_envelope_of_the_wrong_shape_is_still_401(signed):
    response = await signed.post(BROKEN["event is a string"], secret="not-the-secret")
    assert response.status == 401


async def test_a_well_formed_event_still_gets_200(signed):
    response = await signed.post(_event_envelope())
    assert response.status == 200


class _Acks:
    """Stands in for the Socket Mode connection: records what would be sent back to Slack."""

    def __init__(self) -> None:
        self.sent: list[object] = []
        self.logger = logging.getLogger("tests.socket")

    async def send_socket_mode_response(self, response: object) -> None:
        self.sent.append(response)


async def test_a_socket_mode_envelope_of_the_wrong_shape_is_acknowledged_and_ignored(signed):
    handler = MeasuredHandler(signed.yakuba.bolt, "xapp-test", web_client=signed.yakuba.deps.client)
    acks = _Acks()
    payload = json.loads(_event_envelope(event="app_mention"))
    await handler.handle(acks, SocketModeRequest(type="events_api", envelope_id="E1", payload=payload))
    assert [a.envelope_id for a in acks.sent] == ["E1"]
    await signed.settle()
    assert await count(signed, SeenEvent) == 0
