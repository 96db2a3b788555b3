"""What `GET /metrics` exposes: one Prometheus registry per app, and the hooks that feed it.

Labels carry kinds, method names, job names and Slack's error codes only — never a user, channel or team
id, nor anything a member typed — so a scrape holds no personal data.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from slack_sdk.http_retry.async_handler import AsyncRetryHandler

from storage import inbox, outbox

if TYPE_CHECKING:
    from slack_sdk.http_retry.request import HttpRequest
    from slack_sdk.http_retry.response import HttpResponse
    from slack_sdk.http_retry.state import RetryState

    from storage.db import Database

# Slack's error codes are short snake_case words; anything else collapses to "error" so a label can never
# carry free text.
_ERROR_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_METHOD = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.]{0,63}$")
# Seconds: an ack must come within 3 s; the buckets resolve the range that matters around it.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)


def request_kind(body: Any) -> str:
    """The kind of a Slack request, as its label: event, command, action, view_submission, options, …"""
    if not isinstance(body, dict):
        return "other"
    if "command" in body and "type" not in body:
        return "command"
    kind = body.get("type")
    return {
        "event_callback": "event",
        "block_actions": "action",
        "interactive_message": "action",
        "view_submission": "view_submission",
        "view_closed": "view_closed",
        "block_suggestion": "options",
        "dialog_suggestion": "options",
        "shortcut": "shortcut",
        "message_action": "shortcut",
        "url_verification": "url_verification",
    }.get(kind if isinstance(kind, str) else "", "other")


def slack_outcome(response: HttpResponse | None, error: Exception | None) -> str:
    """ok, 429, 5xx, Slack's error code (channel_not_found, …), timeout or connection."""
    if error is not None or response is None:
        if isinstance(error, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
            return "timeout"
        return "connection"
    if response.status_code == 429:
        return "429"
    if response.status_code >= 500:
        return "5xx"
    body = response.body or {}
    if body.get("ok", response.status_code == 200):
        return "ok"
    code = str(body.get("error") or "")
    return code if _ERROR_CODE.match(code) else "error"


class Metrics:
    """The families of one app, in a registry of its own (tests and two apps in a process never clash)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "yakuba_slack_requests",
            "Requests from Slack answered, by kind and HTTP status",
            ["kind", "status"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "yakuba_slack_ack_seconds",
            "Time from a Slack request to its ack, by kind",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.slack_calls = Counter(
            "yakuba_slack_api_calls",
            "Slack Web API requests (each retry counts), by method and outcome",
            ["method", "outcome"],
            registry=r,
        )
        self.slack_reachable = Gauge(
            "yakuba_slack_identified",
            "1 once auth.test has answered (team known), 0 while Slack is unreachable",
            registry=r,
        )
        self.job_runs = Counter(
            "yakuba_job_runs",
            "Scheduled job slots, by job and outcome (done, failed, taken, skipped)",
            ["job", "outcome"],
            registry=r,
        )
        self.deliveries = Counter(
            "yakuba_announcement_deliveries",
            "Announcement deliveries finished, by outcome (sent, failed)",
            ["outcome"],
            registry=r,
        )
        self.placements = Counter(
            "yakuba_member_placements",
            "Approved members put into their prefecture channel, by outcome (placed, waiting, failed)",
            ["outcome"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "yakuba_queue_depth", "Rows waiting in the inbox or the outbox, read at scrape time", ["queue"], registry=r
        )
        self.queue_oldest = Gauge(
            "yakuba_queue_oldest_age_seconds",
            "Age of the oldest waiting row (0 when empty), read at scrape time",
            ["queue"],
            registry=r,
        )
        self.observer = SlackCallObserver(self)

    def answered(self, kind: str, status: int, seconds: float) -> None:
        self.ack_seconds.labels(kind=kind).observe(seconds)
        self.requests.labels(kind=kind, status=str(status)).inc()

    def slack_call(self, method: str, outcome: str) -> None:
        self.slack_calls.labels(method=method, outcome=outcome).inc()

    async def refresh(self, db: Database, *, team_id: str, now: datetime) -> None:
        """Read the queue gauges (at scrape time: a stale depth is worse than none)."""
        for name, module in (("inbox", inbox), ("outbox", outbox)):
            depth, oldest = await module.backlog(db, team_id=team_id)
            self.queue_depth.labels(queue=name).set(depth)
            age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
            self.queue_oldest.labels(queue=name).set(age)

    def exposition(self, accept: str | None) -> tuple[bytes, str]:
        """The registry in the text format the scraper asked for (Accept header), and its content type."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type


class SlackCallObserver(AsyncRetryHandler):
    """Counts every Web API attempt; never asks for a retry.

    slack_sdk asks each retry handler in turn after every response and every connection error; placed
    first in the client's list, this one sees them all. bolt copies the handler list into its
    per-request clients, so listeners' calls are counted too.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self.metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        self.metrics.slack_call(api_method(request.url), slack_outcome(response, error))
        return False


def api_method(url: str) -> str:
    """`chat.postMessage` from …/api/chat.postMessage; URLs that are not Web API methods (uploads) as one name."""
    path = url.split("?", 1)[0].rstrip("/")
    if "/api/" not in path:
        return "other"
    name = path.rsplit("/", 1)[-1]
    return name if _METHOD.match(name) else "other"
