"""Pacing of chat.postMessage, so a broadcast runs at the workspace's real limit without provoking 429 storms.

Slack publishes about one post per second per channel, but not the workspace-wide limit, so the pacer learns it
while sending (SendRate: slow start, then additive increase and multiplicative decrease on 429, Retry-After
honoured) and the announcer remembers the learned rate per workspace in the database. A workspace never seen
before is measured at its first two 429s: a token bucket is fitted to what Slack accepted (see `_fitted`). Three
limits apply:
* the learned rate: posts leave one by one, 1/rate seconds apart;
* a ceiling from YAKUBA_ANNOUNCE_PER_MINUTE: at most `per_minute` posts in any sliding 60-second window;
* about one post per second per channel.

A post is counted in the window from the moment its answer arrives: Slack counted it on arrival, which was
earlier, so our window always contains Slack's. A post in flight holds a reserved place in the window.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

WINDOW = 60.0
RECHECK = 1.0  # a wait for the window reads the clock again at least this often
# Where a workspace never seen starts: the 600 posts a minute the pacer assumed before it learned.
INITIAL_RATE = 10.0
FLOOR_RATE = 0.2
CEILING_RATE = 200.0
# Slow start: each accepted post adds GROW posts/s (the rate doubles about every 0.35 s) until the first 429.
GROW = 2.0
# The first 429 ends slow start with a halving (the burst Slack allows hides how far we overshot).
FIRST_CUT = 0.5
# Later 429s: the rate drops to CUT of itself, or lower, to what Slack accepted since the previous 429, but
# not below DEEPEST of itself: a Retry-After longer than a small burst lasts makes that measure too low.
CUT = 0.8
DEEPEST = 0.49
# After a cut the rate climbs back by CLIMB of the level it was cut to, per second (+50 % in 10 s), and by no
# more than STEP of it per post: at a few posts a second the climb in time alone would overshoot within a
# handful of posts, and every 429 is a post answered 429.
CLIMB = 0.05
STEP = 0.004
# After QUIET_POSTS accepted posts and QUIET_SECONDS without a 429 the rate probes fast again (slow start).
QUIET_POSTS = 100
QUIET_SECONDS = 30.0
# The rate fitted at the second 429 of a first broadcast is used at FIT_MARGIN of itself: the fit is the slowest
# bucket that explains what Slack accepted, and a climb from just below it takes many posts to overshoot.
FIT_MARGIN = 0.95
FIT_STEPS = 100
FIT_NARROW = 3.0
FIT_JITTER = 0.01  # seconds: our send times are not quite Slack's arrival times, so the replay allows this much
PROBE_LOG = 400  # answers kept for the fit (a first broadcast's second 429 comes within a few dozen)


class SendRate:
    """The workspace's post rate as learned from Slack's answers; pure arithmetic on the times it is given."""

    def __init__(self, start: float | None = None, *, ceiling: float = CEILING_RATE) -> None:
        self.ceiling = ceiling
        self.probing = start is None
        self.rate = self._bounded(INITIAL_RATE if start is None else start)
        self.level = self.rate  # the rate after the last cut (or the remembered one): the climb is scaled by it
        self.paused_until = -math.inf
        self.cut_at = -math.inf
        self.cuts = 0
        self.answers = 0  # posts Slack answered (accepted or 429): nothing learned while it is 0
        self.measured = 0.0  # a lower bound of Slack's rate, from what it accepted between two 429s
        self._accepted_since_cut = 0
        self._quiet_since: float | None = None  # the last cut, or the first answer
        self._last = -math.inf
        self._paced = True
        self._recent: deque[float] = deque()
        self._started: float | None = None
        # For the fit: every answer (sent at, accepted?) of a first broadcast until its second 429.
        self._log: list[tuple[float, bool]] | None = [] if start is None else None

    def _bounded(self, rate: float) -> float:
        return min(self.ceiling, max(FLOOR_RATE, rate))

    def next_at(self) -> float:
        """The earliest moment the next post may leave: 1/rate after the last one, and never during a pause."""
        return max(self._last + 1.0 / self.rate, self.paused_until)

    def slot(self, now: float) -> float:
        """Take the next moment a post may leave (now or later)."""
        at = max(now, self.next_at())
        self._last = at
        # Posts that leave slower than the rate show the sender, not the rate, was the limit: their answers say
        # nothing about a faster rate, so they do not raise it (else it would climb unchecked past Slack's).
        span = max(1.0, 4.0 / self.rate)
        self._recent.append(at)
        while self._recent and self._recent[0] < at - span:
            self._recent.popleft()
        self._paced = self._started is None or at - self._started < span or len(self._recent) >= 0.75 * self.rate * span
        if self._started is None:
            self._started = at
        return at

    def accepted(self, now: float, *, sent_at: float | None = None) -> None:
        """Slack took a post: probe upwards (fast before the first 429, slowly after)."""
        self._note(now if sent_at is None else (sent_at + now) / 2, True)
        self.answers += 1
        self._accepted_since_cut += 1
        if self._quiet_since is None:
            self._quiet_since = now
        quiet = now - self._quiet_since
        if not self.probing and self._accepted_since_cut >= QUIET_POSTS and quiet >= QUIET_SECONDS:
            # Long without a 429: the limit may have risen (or the cut came from someone else's burst).
            self.probing = True
        if self._paced:
            step = GROW if self.probing else self.level * min(CLIMB / self.rate, STEP)
            self.rate = self._bounded(self.rate + step)

    def limited(self, now: float, *, sent_at: float, retry_after: float) -> None:
        """Slack answered 429 to a post sent at `sent_at`: honour Retry-After and slow down.

        Posts that left before the last cut were sent at the old rate: their 429s are the same overshoot
        and do not cut again (a burst of answers would otherwise divide the rate by 2 many times over).
        """
        self._note((sent_at + now) / 2, False)  # about when Slack counted it: half-way to its answer
        self.answers += 1
        self.paused_until = max(self.paused_until, now + max(0.0, retry_after))
        if sent_at < self.cut_at or (self.cuts and not self._accepted_since_cut):
            # Nothing was accepted since the last cut: Slack's budget has not refilled yet, which says nothing
            # about the rate (five 429s in a row after five Retry-Afters must not divide it five times).
            return
        if self.probing:
            rate = self.rate * FIRST_CUT
        else:
            rate = self.rate * CUT
            if self.cut_at > -math.inf:
                # Slack's budget was empty at both 429s, so what it accepted in between is a lower bound of its rate.
                self.measured = self._accepted_since_cut / max(now - self.cut_at, 1e-3)
                rate = max(self.rate * DEEPEST, min(rate, self.measured))
                if self.cuts == 1 and self._log:
                    rate = min(self.rate, FIT_MARGIN * fitted(sorted(self._log), self.measured, self.rate))
                    self._log = None
        self.rate = self.level = self._bounded(rate)
        self.probing = False
        self.cut_at = self._quiet_since = now
        self.cuts += 1
        self._accepted_since_cut = 0

    def _note(self, sent_at: float, accepted: bool) -> None:
        if self._log is not None and len(self._log) < PROBE_LOG:
            self._log.append((sent_at, accepted))

    @property
    def remembered(self) -> float:
        """The rate the next broadcast starts from: what Slack was seen to accept, or higher if it climbed since."""
        return self._bounded(max(self.rate, self.measured))


def fitted(log: list[tuple[float, bool]], low: float, high: float) -> float:
    """Slack's rate, from a first broadcast's answers up to its second 429, modelling its limit as a token bucket.

    What Slack accepted between two 429s alone (`low`) is too low whenever the pause after the first refilled
    more than the bucket holds. So: the slowest rate in [low, high) for which some bucket, full at first,
    accepts every post Slack accepted and refuses every post it refused (with FIT_JITTER for timing noise);
    `high`, the rate that met the second 429, is too fast. In the bench the fit comes within 10 % of the
    fake's rate from 5 to 100 posts/s; a bucket of 1 cannot tell 1/s from 5/s, and the slowest is kept.
    """
    if not log or high <= low or low <= 0:
        return low
    accepted = sum(1 for _, ok in log if ok)
    explained = []
    for i in range(FIT_STEPS):
        rate = low * (high / low) ** (i / (FIT_STEPS - 1))
        # The smallest bucket that accepts every accepted post (more tokens never refuse one), then whether
        # it also refuses every refused post (fewer tokens never accept one).
        small, big = 1.0, accepted + 2.0
        if _replay(log, rate, big)[0]:
            while big - small > 0.05:
                middle = (small + big) / 2
                small, big = (small, middle) if _replay(log, rate, middle)[0] else (middle, big)
            if _replay(log, rate, big)[1]:
                explained.append(rate)
    if not explained:
        return low
    slowest, fastest = explained[0], explained[-1]
    # Pinned within a factor of FIT_NARROW: the middle. Wider, the answers tell little, and a guess too high
    # costs posts answered 429 while one too low costs only time: the slowest.
    return math.sqrt(slowest * fastest) if fastest <= FIT_NARROW * slowest else slowest


def _replay(log: list[tuple[float, bool]], rate: float, burst: float) -> tuple[bool, bool]:
    """Replay the answers against a bucket: (every acceptance possible, every refusal possible)."""
    tokens, last, accepts, refusals = burst, log[0][0], True, True
    slack = 0.02 + rate * FIT_JITTER
    for at, ok in log:
        tokens = min(burst, tokens + (at - last) * rate)
        last = at
        if ok:
            accepts = accepts and tokens >= 1 - slack
            tokens -= 1
        else:
            refusals = refusals and tokens < 1 + slack
    return accepts, refusals


class Pacer:
    """The announcer's sending turns: the learned rate, the per-minute ceiling, one post per channel at a time."""

    def __init__(
        self,
        per_minute: int,
        *,
        channel_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        rate: SendRate | None = None,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self.channel_interval = channel_interval
        self.clock = clock
        self.rate = rate or SendRate()
        self._sent: deque[float] = deque()
        self._inflight = 0
        self._cond = asyncio.Condition()
        self._turns = asyncio.Lock()
        self._channel_free_at: dict[str, float] = {}
        self._channel_locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # lock, [users]

    @property
    def paused_until(self) -> float:
        return self.rate.paused_until

    def start_from(self, remembered: float | None) -> None:
        """Begin a broadcast from the rate remembered for the workspace (None: learn it from scratch)."""
        self.rate = SendRate(remembered, ceiling=self.rate.ceiling)

    def _room(self, now: float) -> int:
        while self._sent and now - self._sent[0] >= WINDOW:
            self._sent.popleft()
        return self.per_minute - len(self._sent) - self._inflight

    async def reserve(self, most: int) -> int:
        """Wait until the window has room, then reserve up to `most` posts (at least one)."""
        async with self._cond:
            while True:
                now = self.clock()
                if now < self.paused_until:
                    wait: float | None = self.paused_until - now
                else:
                    room = self._room(now)
                    if room > 0:
                        taken = max(1, min(room, most))
                        self._inflight += taken
                        return taken
                    # Full: the oldest counted post leaves the window then, or an in-flight one returns first.
                    wait = self._sent[0] + WINDOW - now if self._sent else None
                if wait is not None:
                    wait = min(wait, RECHECK)  # the clock may be moved on (tests move theirs a minute at once)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), wait)

    async def release(self, count: int = 1, *, posted: int = 0) -> None:
        """Give back `count` reservations, `posted` of which reached Slack (and now count in the window)."""
        async with self._cond:
            self._inflight = max(0, self._inflight - count)
            now = self.clock()
            self._sent.extend([now] * posted)
            self._cond.notify_all()

    async def turn(self) -> float:
        """Wait for this post's moment at the learned rate; returns when it leaves (for `limited`).

        Posts queue in order and each looks at the rate when its turn comes, not when it arrived: a queue of
        50 must not be spaced at the rate of the moment it formed (slow start would never show).
        """
        async with self._turns:
            while True:
                now = self.clock()
                at = self.rate.next_at()
                if at <= now:
                    return self.rate.slot(now)
                await asyncio.sleep(at - now)

    def accepted(self, *, sent_at: float | None = None) -> None:
        self.rate.accepted(self.clock(), sent_at=sent_at)

    async def limited(self, *, sent_at: float, retry_after: float) -> None:
        """Obey a Retry-After (nothing is sent before it has passed) and slow the learned rate."""
        async with self._cond:
            self.rate.limited(self.clock(), sent_at=sent_at, retry_after=retry_after)
            self._cond.notify_all()

    @asynccontextmanager
    async def channel(self, key: str) -> AsyncIterator[None]:
        """Hold the channel's turn: at most one post in flight per channel, one per interval, after any pause."""
        lock, users = self._channel_locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                while True:
                    now = self.clock()
                    ready = max(self._channel_free_at.get(key, 0.0), self.paused_until)
                    if now >= ready:
                        break
                    await asyncio.sleep(ready - now)
                try:
                    yield
                finally:
                    self._channel_free_at[key] = self.clock() + self.channel_interval
        finally:
            users[0] -= 1
            if users[0] == 0:  # forget idle channels: 5,000 DMs must not pile up
                self._channel_locks.pop(key, None)
                self._forget_old()

    def _forget_old(self) -> None:
        if len(self._channel_free_at) > 1000:
            now = self.clock()
            self._channel_free_at = {k: t for k, t in self._channel_free_at.items() if t > now}
