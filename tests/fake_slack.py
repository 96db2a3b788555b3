"""FakeSlack: the local Slack plus fault injection, for tests.

    slack = await started_fake_slack()
    slack.rate_limit("chat.postMessage", retry_after=1)     # next call: 429 + Retry-After
    slack.error("conversations.invite", "already_in_channel", times=None)
    slow = slack.delay("chat.postMessage", 20)  # held up to 20 s; slow.release() ends it sooner
    ...
    await slack.stop()

Faults are matched per method (and an optional `where`, like LocalSlack.wait_for: a dict of expected
args or a predicate on the Call) and consumed in the order they were added; `times=None` never runs out.
Faults also apply to "response_url" (posts to response URLs) and "upload" (file upload bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.local.slack import Call, LocalSlack, Reply, SlackError
from bot.local.slack.server import Where, matches

_HTTP_ERRORS = {500: "fatal_error", 503: "service_unavailable"}


@dataclass
class Fault:
    method: str
    kind: str  # "fail" | "rate_limit" | "error" | "delay" | "drop"
    times: int | None
    where: Where = None
    status: int = 500
    retry_after: int = 1
    code: str = ""
    seconds: float = 0.0
    # delay: set when a call is being held (`arrived_at` says when), and what ends the hold before `seconds`.
    arrived: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    arrived_at: float | None = None
    released: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    answered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # the held call took effect

    def release(self) -> None:
        """End a delay now: held calls are answered (and take effect) at once."""
        self.released.set()


class FakeSlack(LocalSlack):
    def __init__(self, *, tokens: Iterable[str] | None = None, team_name: str = "Yakuba Test") -> None:
        super().__init__(tokens=tokens, team_name=team_name)
        self.faults: list[Fault] = []
        self._delays: list[Fault] = []  # every delay ever added, used up or not: stop() releases them
        self._channel_interval: float | None = None
        self._channel_last: dict[str, float] = {}
        self._budget: int | None = None
        self._budget_sent: deque[float] = deque()
        self._bucket: tuple[float, float] | None = None  # per second, burst
        self._tokens = 0.0
        self._tokens_at = 0.0
        self._method_limits: dict[str, tuple[int, deque[float]]] = {}

    # ------------------------------------------------------------ scripting
    def _add(self, fault: Fault) -> Fault:
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be >= 1 or None (forever)")
        self.faults.append(fault)
        if fault.kind == "delay":
            self._delays.append(fault)
        return fault

    def fail(self, method: str, *, status: int = 500, times: int | None = 1, where: Where = None) -> Fault:
        """Answer with an HTTP error status (5xx: what AsyncServerErrorRetryHandler retries)."""
        return self._add(Fault(method, "fail", times, where, status=status))

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int | None = 1, where: Where = None) -> Fault:
        """HTTP 429 with a Retry-After header and {"ok": false, "error": "ratelimited"}."""
        return self._add(Fault(method, "rate_limit", times, where, retry_after=retry_after))

    def error(self, method: str, code: str, *, times: int | None = 1, where: Where = None) -> Fault:
        """HTTP 200 with {"ok": false, "error": code}; nothing is changed in the workspace."""
        return self._add(Fault(method, "error", times, where, code=code))

    def delay(self, method: str, seconds: float, *, times: int | None = 1, where: Where = None) -> Fault:
        """Answer normally (the call takes effect then), but only after `seconds`, or sooner on `release()`;
        the fake's stop releases every held call, so a hold is bounded by both."""
        return self._add(Fault(method, "delay", times, where, seconds=seconds))

    def drop(self, method: str, *, times: int | None = 1, where: Where = None) -> Fault:
        """Close the connection without answering (the client sees ServerDisconnectedError)."""
        return self._add(Fault(method, "drop", times, where))

    def enforce_channel_rate(self, per_second: float | None = 1.0) -> None:
        """chat.postMessage more often than `per_second` to one channel gets 429 + Retry-After."""
        self._channel_interval = 1.0 / per_second if per_second else None
        self._channel_last.clear()

    def workspace_budget(self, per_minute: int | None) -> None:
        """At most `per_minute` accepted chat.postMessage calls in any 60 s window, 429 beyond."""
        self._budget = per_minute
        self._budget_sent.clear()

    def workspace_rate(self, per_second: float | None, *, burst: float = 1.0) -> None:
        """A token bucket for chat.postMessage: `per_second` sustained, `burst` at once when idle, 429 beyond.

        The shape of a workspace whose limit Slack does not publish; the bucket starts full.
        """
        self._bucket = (per_second, max(1.0, burst)) if per_second else None
        self._tokens, self._tokens_at = max(1.0, burst), time.monotonic()

    def method_rate(self, method: str, per_minute: int | None) -> None:
        """Slack's per-method tiers (users.list is Tier 2: about 20 a minute): 429 + Retry-After beyond."""
        if per_minute:
            self._method_limits[method] = (per_minute, deque())
        else:
            self._method_limits.pop(method, None)

    def lift(self, fault: Fault) -> None:
        """End a fault added with times=None (Slack answers again), leaving the others in place."""
        if fault in self.faults:
            self.faults.remove(fault)

    async def stop(self) -> None:
        for fault in self._delays:
            fault.release()
        await super().stop()

    def clear_faults(self) -> None:
        self.faults.clear()
        self.enforce_channel_rate(None)
        self.workspace_budget(None)
        self.workspace_rate(None)
        self._method_limits.clear()

    # --------------------------------------------------------------- serving
    def _take(self, method: str, args: dict) -> Fault | None:
        probe = Call(method, args, time.time(), {})
        for fault in self.faults:
            if fault.method == method and matches(probe, None, fault.where):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def _intercept(self, method: str, args: dict) -> Reply | None:
        fault = self._take(method, args)
        if fault is not None:
            if fault.kind == "delay":
                fault.arrived_at = fault.arrived_at or time.time()
                fault.arrived.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(fault.released.wait(), fault.seconds)
                fault.answered.set()  # waiters wake after the call has taken effect (no await in between)
            elif fault.kind == "fail":
                return Reply({"ok": False, "error": _HTTP_ERRORS.get(fault.status, "request_failed")}, fault.status)
            elif fault.kind == "rate_limit":
                return _too_many(fault.retry_after)
            elif fault.kind == "error":
                return Reply({"ok": False, "error": fault.code})
            elif fault.kind == "drop":
                return Reply({}, status=0, drop=True)
        if method in self._method_limits:
            limited = self._method_check(method)
            if limited is not None:
                return limited
        if method == "chat.postMessage":
            return self._rate_check(args)
        return None

    def _method_check(self, method: str) -> Reply | None:
        per_minute, sent = self._method_limits[method]
        now = time.monotonic()
        while sent and now - sent[0] >= 60:
            sent.popleft()
        if len(sent) >= per_minute:
            return _too_many(60 - (now - sent[0]))
        sent.append(now)
        return None

    def _rate_check(self, args: dict) -> Reply | None:
        now = time.monotonic()
        if self._budget is not None:
            while self._budget_sent and now - self._budget_sent[0] >= 60:
                self._budget_sent.popleft()
            if len(self._budget_sent) >= self._budget:
                return _too_many(60 - (now - self._budget_sent[0]))
        if self._bucket is not None:
            per_second, burst = self._bucket
            self._tokens = min(burst, self._tokens + (now - self._tokens_at) * per_second)
            self._tokens_at = now
            if self._tokens < 1:
                return _too_many((1 - self._tokens) / per_second)
        if self._channel_interval is not None:
            try:
                key = self.ws.find_channel(args.get("channel"))["id"]
            except SlackError:
                key = str(args.get("channel"))
            last = self._channel_last.get(key)
            if last is not None and now - last < self._channel_interval:
                return _too_many(self._channel_interval - (now - last))
            self._channel_last[key] = now
        if self._budget is not None:
            self._budget_sent.append(now)
        if self._bucket is not None:
            self._tokens -= 1
        return None


def _too_many(wait: float) -> Reply:
    retry_after = max(1, math.ceil(wait))
    return Reply({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(retry_after)})


# ---------------------------------------------------------------- factories
async def started_fake_slack(**kwargs: Any) -> FakeSlack:
    """A started FakeSlack (remember `await slack.stop()`)."""
    slack = FakeSlack(**kwargs)
    await slack.start()
    return slack


def client_for(slack: LocalSlack, *, token: str = "xoxb-test", retries: bool = True, **kwargs: Any) -> AsyncWebClient:
    """An AsyncWebClient on the fake with the retry handlers the bot uses (429, 5xx, connection errors)."""
    handlers = (
        [
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ]
        if retries
        else []
    )
    assert slack.base_url, "start the fake first"
    return AsyncWebClient(token=token, base_url=slack.base_url, retry_handlers=handlers, **kwargs)
