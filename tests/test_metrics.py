"""GET /metrics: Prometheus' text format, the families an operator alerts on, and no personal data in labels."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError

from bot.app import create_app
from bot.local import requests as req
from storage import outbox
from tests.clock import TestClock

SLACK_ID = re.compile(r"^[UCDGTW][A-Z0-9]{6,}$")


async def scrape(http) -> dict:
    response = await http.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {family.name: family for family in text_string_to_metric_families(await response.text())}


def value(families: dict, name: str, sample: str | None = None, **labels: str) -> float | None:
    for s in families[name].samples:
        if (sample is None or s.name == sample) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


async def test_metrics_after_requests_and_slack_calls(signed, people):
    slack, deps = signed.slack, signed.yakuba.deps
    # A member joins (an event: welcome DM through conversations.open + chat.postMessage) and asks the FAQ.
    assert (await signed.event(req.team_join_event(slack.user(people.member)))).status == 200
    assert (await signed.command(people.member, "/faq", "予約")).status == 200
    await signed.settle()
    # One call Slack refuses with an error code, one that meets a 502 before it succeeds.
    with pytest.raises(SlackApiError):
        await deps.client.chat_postMessage(channel="C0NOSUCH", text="x")
    slack.fail("conversations.info", status=502)
    await deps.client.conversations_info(channel=people.admin_channel)
    # A message held back for an hour, queued five minutes ago: the outbox's oldest row.
    now = deps.clock()
    async with deps.db.write() as session:
        await outbox.enqueue(
            session,
            team_id=deps.team_id,
            key="held",
            kind="post",
            target=people.admin_channel,
            payload={"text": "x"},
            now=now - timedelta(minutes=5),
        )
    held = await outbox.by_key(deps.db, team_id=deps.team_id, key="held")
    await outbox.mark_retry(deps.db, row_id=held.id, error="test", at=now + timedelta(hours=1))

    families = await scrape(signed.http)

    assert value(families, "yakuba_slack_requests", kind="event", status="200") == 1
    assert value(families, "yakuba_slack_requests", kind="command", status="200") == 1
    assert value(families, "yakuba_slack_ack_seconds", "yakuba_slack_ack_seconds_count", kind="event") == 1
    assert value(families, "yakuba_slack_ack_seconds", "yakuba_slack_ack_seconds_bucket", kind="command", le="+Inf")
    calls = "yakuba_slack_api_calls"
    assert value(families, calls, method="auth.test", outcome="ok") >= 1
    assert value(families, calls, method="chat.postMessage", outcome="ok") >= 1  # the welcome DM
    assert value(families, calls, method="chat.postMessage", outcome="channel_not_found") == 1
    assert value(families, calls, method="conversations.info", outcome="5xx") == 1
    assert value(families, calls, method="conversations.info", outcome="ok") == 1
    assert value(families, "yakuba_queue_depth", queue="outbox") == 1
    assert value(families, "yakuba_queue_oldest_age_seconds", queue="outbox") >= 300
    assert value(families, "yakuba_queue_depth", queue="inbox") == 0
    assert value(families, "yakuba_queue_oldest_age_seconds", queue="inbox") == 0
    assert value(families, "yakuba_slack_identified") == 1
    # Start-up catch-up ran every job's current slots.
    assert {s.labels["outcome"] for s in families["yakuba_job_runs"].samples} <= {"done", "failed", "taken", "skipped"}
    assert families["yakuba_job_runs"].samples
    for name in ("yakuba_announcement_deliveries", "yakuba_member_placements"):
        assert name in families

    for family in families.values():
        for sample in family.samples:
            for label, text in sample.labels.items():
                assert not SLACK_ID.match(text), (sample.name, label, text)
                assert text not in (people.member, people.organizer, people.admin_channel, deps.team_id)


async def test_two_apps_in_one_process_count_apart(settings, signed):
    other = create_app(settings, clock=TestClock())
    try:
        await signed.yakuba.deps.client.auth_test()
        mine = signed.yakuba.deps.metrics.slack_calls.labels(method="auth.test", outcome="ok")._value.get()
        theirs = other.deps.metrics.slack_calls.labels(method="auth.test", outcome="ok")._value.get()
        assert mine >= 2 and theirs == 0
    finally:
        await other.close()
