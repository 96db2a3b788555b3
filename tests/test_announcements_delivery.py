"""Journey 4, delivery: every target exactly once at Slack's limits, through 429s, failures and restarts."""

from __future__ import annotations

import asyncio

from bot.blocks import announcements as ui
from schedules import announcements as job
from schedules.scheduler import Scheduler
from storage import announcement_deliveries as deliveries
from storage import send_rates
from storage.models import JobRun
from tests.announce_flow import (
    TEAM,
    all_prefecture_channels,
    announce,
    approve_members,
    button,
    click,
    latest,
    posts_to,
    preview,
)


def rate_limited(slack, per_minute: int = 600) -> None:
    slack.enforce_channel_rate(1.0)
    slack.workspace_budget(per_minute)


def report_dm(signed, user_id: str) -> dict:
    texts = signed.yakuba.deps.texts
    title = texts("announcements.report.title", id="")[:4]
    found = [m for m in signed.slack.dm_messages(user_id) if title in m["text"]]
    assert len(found) == 1, signed.slack.dm_messages(user_id)
    return found[0]


async def test_47_channels_each_get_the_announcement_once(signed, people):
    channels = await all_prefecture_channels(signed)
    rate_limited(signed.slack)
    answer = await announce(signed, people.organizer, "all 今週金曜は説明会です")
    texts = signed.yakuba.deps.texts
    assert answer["text"] == texts("announcements.started", count=47)
    for channel in channels.values():
        posts = posts_to(signed.slack, channel)
        assert len(posts) == 1, channel
        assert posts[0]["blocks"][0]["text"]["text"] == "今週金曜は説明会です"
    assert not [c for c in signed.slack.calls_to("chat.postMessage") if c.status == 429]
    row = await latest(signed)
    assert row.status == "done"
    rows = await deliveries.deliveries(signed.yakuba.deps.db, announcement_id=row.id)
    assert all(d.status == "sent" and d.ts for d in rows)
    report = report_dm(signed, people.organizer)
    assert texts("announcements.report.summary", sent=47, total=47, failed=0, seconds="")[:12] in report["text"]


async def test_429s_are_obeyed_and_nothing_is_lost_or_doubled(signed, people):
    channels = await all_prefecture_channels(signed)
    rate_limited(signed.slack)
    signed.slack.rate_limit("chat.postMessage", retry_after=1, times=5)
    await announce(signed, people.organizer, "all 台風の接近に備えて")
    limited = [c for c in signed.slack.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 5
    for channel in channels.values():
        assert len(posts_to(signed.slack, channel)) == 1
    # Retry-After was honoured: the refused post was tried again no sooner than 1 s later. (Posts to other
    # channels already in flight when the 429 arrived may land meanwhile; new ones wait.)
    first = limited[0]
    again = [
        c.at
        for c in signed.slack.calls_to("chat.postMessage")
        if c.args.get("channel") == first.args.get("channel") and c.at > first.at
    ]
    assert again and min(again) - first.at >= 0.95
    assert (await latest(signed)).status == "done"


async def test_a_strict_workspace_limit_is_learned_with_few_429s_and_remembered(signed, people):
    # A workspace allowing 5 posts a second with a burst of 2, never seen before: the pacer starts at 10/s and
    # fits a token bucket to Slack's answers at the second 429. (Usually two 429s; under load the timing that
    # the fit reads is rougher and a third can come, so this bound stays at 10 %: bench.announce measures it.)
    channels = await all_prefecture_channels(signed)
    signed.slack.enforce_channel_rate(1.0)
    signed.slack.workspace_rate(5.0, burst=2)
    await announce(signed, people.organizer, "all 避難所の開設について")
    calls = [c for c in signed.slack.calls_to("chat.postMessage") if c.args.get("metadata")]
    accepted = [c for c in calls if c.status == 200]
    limited = [c for c in calls if c.status == 429]
    assert sorted(c.args["channel"] for c in accepted) == sorted(channels.values())  # none lost, none twice
    assert len(limited) <= 0.1 * len(accepted), len(limited)
    assert (await latest(signed)).status == "done"
    # Every post after a 429 waited for its Retry-After.
    for refused in limited:
        later = [c.at for c in calls if c.at > refused.at]
        assert not later or min(later) - refused.at >= 0.95
    remembered = await send_rates.remembered(signed.yakuba.deps.db, team_id=TEAM)
    # At least 0.4 of Slack's rate: when timing under load leaves the fit a range wider than 3x it keeps the
    # slowest rate explained (2.2/s here once, with the whole suite running on 2 cores), and climbs from it.
    assert remembered is not None and 2.0 <= remembered <= 7.0
    # The next broadcast starts from it rather than from scratch.
    # (What the rate is after that broadcast depends on the workspace's bucket then; where it began does not.)
    pacer = signed.yakuba.deps.announcer.pacer
    started: list[float | None] = []
    begin = pacer.start_from
    pacer.start_from = lambda value: (started.append(value), begin(value))[1]
    await announce(signed, people.organizer, "pref:13 東京のみなさんへ")
    assert started == [remembered]


async def test_failed_targets_are_recorded_with_reasons_and_reported(signed, people):
    channels = await all_prefecture_channels(signed)
    slack = signed.slack
    slack.archive(channels["13"])
    slack.remove_members(channels["27"], "U0BOT")  # public: the bot joins once and posts
    private = slack.add_channel("ka-writing", private=True, bot_member=False, members=[people.organizer])
    gone = slack.add_user("taishoku", "退職 太郎", deleted=True)["id"]
    await approve_members(signed, [people.member, gone])
    await announce(signed, people.organizer, "all 地震の情報共有をお願いします")
    assert posts_to(slack, channels["27"]) and len(slack.calls_to("conversations.join")) == 1
    row = await latest(signed)
    failed = {
        d.target: d.last_error
        for d in await deliveries.deliveries(signed.yakuba.deps.db, announcement_id=row.id)
        if d.status == "failed"
    }
    assert failed == {channels["13"]: "is_archived"}
    texts = signed.yakuba.deps.texts
    report = report_dm(signed, people.organizer)
    assert texts("announcements.reasons.is_archived") in str(report["blocks"])

    await announce(signed, people.organizer, "members 全員へのお知らせ")
    row = await latest(signed)
    failed = {
        d.target: d.last_error
        for d in await deliveries.deliveries(signed.yakuba.deps.db, announcement_id=row.id)
        if d.status == "failed"
    }
    assert failed == {gone: "account_inactive"}
    assert len(posts_to(slack, slack.dm_channel(people.member))) == 1

    await announce(signed, people.organizer, f"ka:<#{private['id']}|{private['name']}> 課のお知らせ")
    row = await latest(signed)
    [delivery] = await deliveries.deliveries(signed.yakuba.deps.db, announcement_id=row.id)
    assert (delivery.status, delivery.last_error) == ("failed", "channel_not_found")  # invisible to the bot
    closed = slack.add_channel("ka-closed", bot_member=False)
    slack.error("conversations.join", "restricted_action", times=None)
    await announce(signed, people.organizer, "ka:ka-closed 参加できない課")
    [delivery] = await deliveries.deliveries(signed.yakuba.deps.db, announcement_id=(await latest(signed)).id)
    assert (delivery.target, delivery.status, delivery.last_error) == (closed["id"], "failed", "not_in_channel")
    assert not [c for c in slack.calls_to("chat.postMessage") if c.status >= 500]


async def test_a_send_interrupted_mid_call_is_looked_up_not_repeated(signed, people):
    """The connection drops after Slack accepted the post: the retry finds it in history instead of posting."""
    channels = await all_prefecture_channels(signed)
    target = channels["13"]
    slack = signed.slack
    # The fake records the post, then we pretend the answer never came: a 503 after the message landed.
    original = slack._intercept

    async def accept_then_fail(method, args):
        reply = await original(method, args)
        if (
            reply is None
            and method == "chat.postMessage"
            and args.get("channel") == target
            and not posts_to(slack, target)
        ):
            from bot.local.slack import Reply

            slack._dispatch(method, dict(args), "xoxb-test-token", slack.root_url)
            return Reply({"ok": False, "error": "service_unavailable"}, 503)
        return reply

    slack._intercept = accept_then_fail
    announcer = signed.yakuba.deps.announcer
    await announce(signed, people.organizer, "pref:13 一度だけ届くはず")
    while (await latest(signed)).status != "done":  # the retry waits for its backoff; the worker is awake
        await asyncio.wait_for(announcer._task, 30) if announcer._task else None
        await signed.settle()
    assert len(posts_to(slack, target)) == 1
    assert slack.calls_to("conversations.history", where={"channel": target})


async def test_scheduled_announcement_is_claimed_once_by_two_schedulers(signed, people):
    from datetime import timedelta

    await all_prefecture_channels(signed)
    deps = signed.yakuba.deps
    shown = await preview(signed, people.organizer, "pref:13,27 予約のお知らせ")
    draft = await latest_draft(signed)
    send_at = deps.clock().replace(second=0, microsecond=0) + timedelta(minutes=5)
    async with deps.db.write() as session:
        (await session.get(type(draft), draft.id)).send_at = send_at
    answer = await click(signed, people.organizer, ui.SEND, button(shown, ui.SEND)["value"])
    assert answer["text"].startswith(deps.texts("announcements.scheduled", count=2, at="")[:0])
    assert (await latest(signed)).status == "scheduled"
    assert not signed.slack.calls_to("chat.postMessage", where=lambda c: c.args.get("metadata") or {})
    one, two = Scheduler(deps, jobs=[job.JOB]), Scheduler(deps, jobs=[job.JOB])
    results = await asyncio.gather(
        one.tick(job.JOB, send_at + timedelta(seconds=1)), two.tick(job.JOB, send_at + timedelta(seconds=1))
    )
    assert sorted(status for result in results for _, status in result) == ["done", "taken"]
    await signed.settle()
    row = await latest(signed)
    assert row.status == "done"
    async with deps.db.read() as session:
        from sqlalchemy import select

        runs = list(await session.scalars(select(JobRun).where(JobRun.job == "announcements")))
    assert [r.slot for r in runs] == [send_at]
    sent = signed.slack.calls_to("chat.postMessage", where=lambda c: c.args.get("metadata") or {})
    assert len([c for c in sent if c.status == 200]) == 2


async def latest_draft(signed):
    from sqlalchemy import select

    from storage.models import Announcement

    async with signed.yakuba.deps.db.read() as session:
        return await session.scalar(
            select(Announcement).where(Announcement.team_id == TEAM).order_by(Announcement.id.desc()).limit(1)
        )
