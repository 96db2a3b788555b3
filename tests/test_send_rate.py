"""The pacer's rate learner against token-bucket workspaces, on a simulated clock (no sleeping, no Slack)."""

from __future__ import annotations

import math

import pytest

from bot.slack.pacer import (
    CEILING_RATE,
    CLIMB,
    CUT,
    DEEPEST,
    FLOOR_RATE,
    INITIAL_RATE,
    QUIET_POSTS,
    QUIET_SECONDS,
    STEP,
    SendRate,
    fitted,
)


class Bucket:
    """A workspace limit the way tests/fake_slack.py models it: `per_second` sustained, `burst` when idle."""

    def __init__(self, per_second: float, burst: float) -> None:
        self.per_second, self.burst = per_second, burst
        self.tokens, self.at = burst, 0.0

    def take(self, now: float) -> float | None:
        """None when the post is accepted, else the Retry-After (whole seconds, at least one)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return max(1, math.ceil((1 - self.tokens) / self.per_second))


def broadcast(learner: SendRate, bucket: Bucket, posts: int, *, latency: float = 0.005) -> tuple[float, int]:
    """Send `posts` posts (each again after a 429) paced by `learner`: (time of the last accepted, 429s)."""
    now, left, limited, last = 0.0, posts, 0, 0.0
    while left:
        now = learner.slot(now)
        retry_after = bucket.take(now)
        if retry_after is None:
            learner.accepted(now + latency, sent_at=now)
            left, last = left - 1, now
        else:
            limited += 1
            learner.limited(now + latency, sent_at=now, retry_after=retry_after)
    return last, limited


def bound(bucket: Bucket, posts: int) -> float:
    """The earliest the last post can be accepted: the burst at once, then one per 1/per_second."""
    return max(0.0, posts - bucket.burst) / bucket.per_second


@pytest.mark.parametrize("per_second", [1, 5, 20, 50])
def test_first_and_remembered_rates_send_within_1_3_of_the_bound_with_few_429s(per_second):
    burst = max(1, per_second // 2)  # the shape of the example: 20 posts/s with a burst of 10
    posts = max(47, burst + 10 * per_second)
    first = SendRate()
    cold, cold_limited = broadcast(first, Bucket(per_second, burst), posts)
    assert cold <= 1.3 * bound(Bucket(per_second, burst), posts)
    assert cold_limited <= 0.05 * (posts + cold_limited)
    # The next broadcast starts where the first left off (the announcer stores it per workspace).
    assert 0.7 * per_second <= first.remembered <= 1.3 * per_second
    warm, warm_limited = broadcast(SendRate(first.remembered), Bucket(per_second, burst), posts)
    assert warm <= 1.3 * bound(Bucket(per_second, burst), posts)
    assert warm_limited <= 0.05 * (posts + warm_limited)


def answers(bucket: Bucket, sent: list[float]) -> list[tuple[float, bool]]:
    return [(at, bucket.take(at) is None) for at in sent]


@pytest.mark.parametrize(("per_second", "burst"), [(5, 2), (10, 5), (20, 10), (50, 25)])
def test_the_fit_finds_a_buckets_rate_from_a_first_broadcasts_two_429s(per_second, burst):
    # Slow start from 10/s until the first 429, a pause of one second, then a steady 1.4x the rate to the second.
    bucket, sent, rate, at = Bucket(per_second, burst), [], INITIAL_RATE, 0.0
    while True:
        sent.append(at)
        if bucket.take(at) is not None:
            break
        at, rate = at + 1 / rate, rate + 2
    log = [(t, t != at) for t in sent]
    at += 1.0
    while True:
        refused = bucket.take(at) is not None
        log.append((at, not refused))
        if refused:
            break
        at += 1 / (1.4 * per_second)
    accepted_since = sum(1 for t, ok in log if ok and t > sent[-1])
    low = accepted_since / (at - sent[-1])
    assert low < 0.9 * per_second  # what Slack accepted between the two 429s alone is too low ...
    assert fitted(log, low, 1.4 * per_second) == pytest.approx(per_second, rel=0.15)  # ... the fit is not


def test_a_bucket_of_one_tells_little_so_the_fit_keeps_the_slowest_rate():
    # One post, a 429, a second's pause, one post, a 429: Slack at 1/s and at 5/s answer the same.
    for per_second in (1, 5):
        log = answers(Bucket(per_second, 1), [0.0, 0.08, 1.1, 1.27])
        assert log == [(0.0, True), (0.08, False), (1.1, True), (1.27, False)]
    assert fitted(log, 1 / 1.19, 6.0) == pytest.approx(1 / 1.19)


def test_slow_start_grows_until_the_first_429_then_halves_and_honours_retry_after():
    learner = SendRate()
    assert learner.rate == INITIAL_RATE and learner.probing
    for i in range(10):
        learner.accepted(i / 10)
    assert learner.rate > 2 * INITIAL_RATE
    before = learner.rate
    learner.limited(1.0, sent_at=0.99, retry_after=2)
    assert learner.rate == pytest.approx(before / 2) and not learner.probing
    assert learner.slot(1.0) == 3.0  # nothing leaves before Retry-After has passed
    assert learner.slot(3.0) == pytest.approx(3.0 + 1 / learner.rate)


def test_429s_of_posts_sent_before_a_cut_or_before_anything_was_accepted_again_cut_once():
    learner = SendRate(20.0)
    for i in range(40):
        learner.accepted(i / 20)
    learner.limited(2.0, sent_at=1.99, retry_after=1)
    cut = learner.rate
    # Answers to posts that were already in flight: the same overshoot.
    learner.limited(2.01, sent_at=1.995, retry_after=1)
    # After the pause the first post is refused again (someone else spent the budget): no new evidence.
    learner.limited(3.01, sent_at=3.0, retry_after=1)
    assert learner.rate == cut and learner.cuts == 1 and learner.paused_until == pytest.approx(4.01)


def test_a_second_429_cuts_to_what_slack_accepted_in_between():
    learner = SendRate(10.0)
    learner.accepted(0.0)
    learner.limited(0.1, sent_at=0.05, retry_after=1)
    assert learner.rate == pytest.approx(10.0 * CUT, rel=0.01)
    # 3 posts accepted in the 3 s to the next 429: Slack allows about 1 a second, far below the next cut ...
    for t in (1.1, 2.1, 3.0):
        learner.accepted(t)
    before = learner.rate
    learner.limited(3.1, sent_at=3.05, retry_after=1)
    assert learner.measured == pytest.approx(1.0)
    assert learner.rate == pytest.approx(before * DEEPEST)  # ... but one cut goes no deeper than DEEPEST
    # Between 0.7 and 0.49 of the rate, the measure decides.
    for t in (4.1, 4.4, 4.7, 5.0, 5.3, 5.6):
        learner.accepted(t)
    before = learner.rate
    learner.limited(5.1 + 1, sent_at=6.05, retry_after=1)
    assert learner.measured == pytest.approx(2.0)
    assert learner.rate == pytest.approx(max(before * DEEPEST, min(2.0, before * CUT)))
    assert learner.remembered == pytest.approx(learner.rate)


def test_the_climb_after_a_cut_is_slow_and_bounded():
    learner = SendRate(10.0)
    for i in range(100):
        learner.accepted(i / 10)
    # CLIMB of the level per second for 10 s, and no more than STEP of it per post.
    assert 10.0 < learner.rate <= 10.0 * (1 + min(10 * CLIMB, 100 * STEP)) + 1e-9 and not learner.probing
    assert SendRate(1e6).rate == CEILING_RATE and SendRate(0.0).rate == FLOOR_RATE
    assert SendRate(50.0, ceiling=25.0).rate == 25.0


def test_a_long_quiet_spell_probes_fast_again():
    learner = SendRate(10.0)
    learner.accepted(0.0)
    learner.limited(0.1, sent_at=0.05, retry_after=1)
    for i in range(QUIET_POSTS - 1):
        learner.accepted(1.0 + i * 0.2)
    assert not learner.probing  # one post short of the quiet spell
    learner.accepted(0.1 + QUIET_SECONDS - 0.01)
    assert not learner.probing  # and not quite long enough
    learner.accepted(0.1 + QUIET_SECONDS)
    assert learner.probing


def test_posts_the_sender_was_too_slow_to_pace_do_not_raise_the_rate():
    learner = SendRate(10.0)
    now = 0.0
    for _ in range(3):  # the first second always counts as paced: nothing is known yet
        now = learner.slot(now + 0.5)
        learner.accepted(now)
    start = learner.rate
    for _ in range(20):
        now = learner.slot(now + 0.5)  # one post every 0.5 s although 10 a second were allowed
        learner.accepted(now)
    assert learner.rate == start
    for _ in range(20):
        now = learner.slot(now)  # paced: waiting for its moment each time
        learner.accepted(now)
    assert learner.rate > start
