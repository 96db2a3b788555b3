"""Disaster check-ins (#17) over signed HTTP against FakeSlack and FakeJma: the watcher, the post, the answers."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from bot.app import create_app
from bot.blocks import disaster as ids
from bot.cli import main
from bot.cli.disaster import cli_replay, read_telegram
from bot.cli.operations import run_job
from bot.local import requests as req
from bot.services import disaster as service
from bot.services.disaster_feed import FeedState
from bot.services.privacy import forget_member
from bot.texts import Texts
from schedules import disaster as job
from schedules import privacy as privacy_job
from storage import disaster, job_runs, members, prefectures
from storage.models import DisasterCheckin, DisasterStatus
from tests.community_flow import add_member, all_text
from tests.fake_jma import FIXTURES, FakeJma, started_fake_jma
from tests.membership_flow import TEAM, channels

JST = ZoneInfo("Asia/Tokyo")
T0 = datetime(2026, 11, 20, 2, 30, tzinfo=JST)  # after the fixtures' telegrams (02:14 JST on the 20th)
FLASH, REPORT = "vxse51_saitama_5plus.xml", "vxse53_saitama_5plus.xml"
CORRECTED, CANCEL = "vxse53_saitama_5plus_corrected.xml", "vxse53_saitama_cancel.xml"
SAITAMA, TOKYO = "11", "13"


@pytest.fixture
async def jma() -> FakeJma:
    server = await started_fake_jma()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings, jma):
    return settings.model_copy(update={"yakuba_jma_feed_url": jma.feed_url})


@pytest.fixture
async def app(signed):
    signed.yakuba.deps.checkins.interval = 0.01  # the pace between two updates of one post, short for tests
    await signed.yakuba.identify()
    return signed


def texts(signed) -> Texts:
    return signed.yakuba.deps.texts


async def tick(signed, at: datetime, *, app=None) -> str:
    yakuba = app or signed.yakuba
    [(_, outcome)] = await yakuba.scheduler.tick(job.JOB, at)
    await yakuba.deps.drain()
    [run] = [r for r in await _runs(yakuba) if r.slot == at.replace(second=0, microsecond=0)]
    return run.detail or outcome


async def _runs(yakuba):
    return await job_runs.runs(yakuba.deps.db, team_id=TEAM, job=job.NAME)


async def channel_of(signed, code: str) -> str:
    row = await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code=code)
    return row.channel_id


async def prime(signed, jma: FakeJma, at: datetime = T0) -> None:
    """The watcher's first read: whatever the feed holds already is remembered, never posted."""
    assert (await tick(signed, at)).startswith("primed")


def header_of(message: dict) -> str:
    return next(b["text"]["text"] for b in message["blocks"] if b["type"] == "header")


def tally_line(signed, safe: int = 0, responding: int = 0, need_help: int = 0) -> str:
    return texts(signed)("disaster.post.tally", safe=safe, responding=responding, need_help=need_help)


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


async def test_one_post_per_prefecture_then_updates_and_withdrawal_never_a_second_post(app, jma):
    signed = app
    await channels(signed, (SAITAMA, TOKYO, "12"))
    saitama, tokyo = await channel_of(signed, SAITAMA), await channel_of(signed, TOKYO)
    jma.publish("vxse53_below_threshold.xml")
    jma.publish(REPORT, data=b"", at=datetime(2026, 1, 2, tzinfo=JST), title="震度速報")  # an old entry, never read
    await prime(signed, jma)
    assert signed.slack.messages(saitama) == []

    jma.publish(FLASH)
    await tick(signed, T0 + timedelta(minutes=1))
    [post] = signed.slack.messages(saitama)
    t = texts(signed)
    assert header_of(post) == t("disaster.post.header", prefecture="埼玉県", intensity=t("disaster.intensity.5+"))
    assert t("disaster.post.prompt") in all_text(post)
    assert [b["text"]["text"] for b in buttons(post)] == [
        t("disaster.status.safe"),
        t("disaster.status.responding"),
        t("disaster.status.need_help"),
        t("disaster.post.view"),
    ]
    assert tally_line(signed) in all_text(post)
    assert signed.slack.messages(tokyo) == []  # 4 in 東京都: below the minimum

    # The same EventID's 震源・震度に関する情報: the post is rewritten with the hypocentre and the municipalities.
    jma.publish(REPORT, at=jma.published[-1].at + timedelta(minutes=5))
    await tick(signed, T0 + timedelta(minutes=2))
    [post] = signed.slack.messages(saitama)
    assert "埼玉県南部" in all_text(post) and "さいたま市浦和区" in all_text(post) and "川口市" in all_text(post)
    assert "熊谷市" not in all_text(post)  # 4 there: below the minimum
    assert t("disaster.post.unreported") in all_text(post)

    # 訂正: 戸田市 reported 5弱 now; still one post.
    jma.publish(CORRECTED, at=jma.published[-1].at + timedelta(minutes=5))
    await tick(signed, T0 + timedelta(minutes=3))
    [post] = signed.slack.messages(saitama)
    assert "戸田市" in all_text(post) and "M5.5" in all_text(post)

    # 取消: the post says so and loses its buttons.
    jma.publish(CANCEL, at=jma.published[-1].at + timedelta(minutes=5))
    await tick(signed, T0 + timedelta(minutes=4))
    [post] = signed.slack.messages(saitama)
    assert t("disaster.post.withdrawn") in all_text(post)
    assert buttons(post) == []
    posts = signed.slack.calls_to("chat.postMessage", where={"channel": saitama})
    assert len(posts) == 1
    assert signed.slack.messages(tokyo) == []


async def test_drills_tests_and_weak_shaking_reach_no_member_channel(app, jma):
    signed = app
    await channels(signed, ("22", "01", "12"))
    await prime(signed, jma)
    for name in ("vxse53_drill.xml", "vxse51_test.xml", "vxse53_below_threshold.xml"):
        jma.publish(name)
    detail = await tick(signed, T0 + timedelta(minutes=1))
    assert "not_real=2" in detail and "posted=0" in detail
    for code in ("22", "01", "12"):
        assert signed.slack.messages(await channel_of(signed, code)) == []
    async with signed.yakuba.deps.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(DisasterCheckin)) == 0


async def test_three_prefectures_get_three_posts_once_across_a_restart(app, jma, settings, monkeypatch):
    signed = app
    await channels(signed, ("08", "09", "10"))  # 埼玉県 (4) has a channel too, but is below the minimum
    await channels(signed, (SAITAMA,))
    await prime(signed, jma)
    jma.publish("vxse51_three_prefectures.xml")
    jma.publish("vxse53_three_prefectures.xml")

    # The first process queues the posts, then dies before it records what it did or sends anything.
    saves = 0
    real_save = service._save

    async def dying_save(*args, **kwargs):
        nonlocal saves
        saves += 1
        raise RuntimeError("killed")

    monkeypatch.setattr(signed.yakuba.deps.outbox, "kick", lambda: None)
    monkeypatch.setattr(service, "_save", dying_save)
    with pytest.raises(RuntimeError):
        await signed.yakuba.scheduler.tick(job.JOB, T0 + timedelta(minutes=1))
    assert saves == 1
    monkeypatch.setattr(service, "_save", real_save)

    second = create_app(settings, team_id=TEAM, clock=signed.clock)
    second.deps.checkins.interval = 0.01
    try:
        await tick(signed, T0 + timedelta(minutes=2), app=second)
        await second.deps.outbox.flush()
        await second.deps.drain()
        await tick(signed, T0 + timedelta(minutes=3), app=second)  # nothing new: nothing more
    finally:
        await second.close()
    for code, intensity in (("08", "6-"), ("09", "5+"), ("10", "5-")):
        [post] = signed.slack.messages(await channel_of(signed, code))
        t = texts(signed)
        assert header_of(post) == t(
            "disaster.post.header", prefecture=ids.prefecture_name(code), intensity=t(f"disaster.intensity.{intensity}")
        )
    assert signed.slack.messages(await channel_of(signed, SAITAMA)) == []
    assert len(signed.slack.calls_to("chat.postMessage")) == 3


async def test_jma_failing_or_hanging_is_retried_and_the_bot_keeps_answering(app, jma, people, monkeypatch):
    signed = app
    await channels(signed, (SAITAMA,))
    saitama = await channel_of(signed, SAITAMA)
    await prime(signed, jma)
    jma.publish(FLASH)
    jma.fail("feed", status=500)
    assert (await tick(signed, T0 + timedelta(minutes=1))).startswith("http 500")
    health = await (await signed.http.get("/healthz")).json()
    assert health["disaster_feed"]["last_error"] == "http 500"
    assert signed.slack.messages(saitama) == []

    # The next minute is past the back-off: read again, nothing lost.
    await tick(signed, T0 + timedelta(minutes=2))
    assert len(signed.slack.messages(saitama)) == 1
    health = await (await signed.http.get("/healthz")).json()
    assert health["disaster_feed"]["last_error"] is None
    assert datetime.fromisoformat(health["disaster_feed"]["last_success"]) == T0 + timedelta(minutes=2)

    # JMA hangs on the next telegram: meanwhile a member's slash command is answered at once.
    jma.publish(REPORT, at=jma.published[-1].at + timedelta(minutes=5))
    jma.hang("telegram", bound=20)
    ticking = asyncio.ensure_future(tick(signed, T0 + timedelta(minutes=3)))
    await asyncio.wait_for(jma.holding.wait(), 5)
    response = await signed.command(people.member, "/kenjinkai")
    assert response.status == 200
    assert not ticking.done()
    jma.release()
    await ticking
    [post] = signed.slack.messages(saitama)
    assert "さいたま市浦和区" in all_text(post)

    # A telegram that takes longer than the timeout is left pending and fetched on the next tick.
    jma.publish(CORRECTED, at=jma.published[-1].at + timedelta(minutes=5))
    jma.hang("telegram", bound=5)
    monkeypatch.setattr(job, "TIMEOUT_SECONDS", 0.2)
    assert (await tick(signed, T0 + timedelta(minutes=4))).startswith("timeout posted=0 updated=0")
    jma.release()
    assert "updated=1 " in await tick(signed, T0 + timedelta(minutes=5))
    [post] = signed.slack.messages(saitama)
    assert "戸田市" in all_text(post)


async def test_sixty_members_pressing_at_once_keep_an_exact_tally(app, people):
    signed = app
    await channels(signed, (SAITAMA,))
    saitama = await channel_of(signed, SAITAMA)
    checkin, post = await manual_checkin(signed, people, saitama)
    pressers = [f"U0PRESS{i:03d}" for i in range(60)]
    first = ["safe", "responding", "need_help"]
    value = ids.row_value(checkin.id)

    async def press(user: str, status: str):
        response = await signed.action(user, f"{ids.ANSWER_ACTION}.{status}", value, channel_id=saitama, message=post)
        assert response.status == 200

    await asyncio.gather(*(press(user, first[i % 3]) for i, user in enumerate(pressers)))
    await signed.settle()  # bolt acks first and records after: the second presses must come after the first
    # Ten change their answer (the last press wins): 20 safe → 10 safe + 10 need help.
    await asyncio.gather(*(press(user, "need_help") for user in pressers[0:30:3]))
    await signed.settle()

    counts = (await disaster.tally(signed.yakuba.deps.db, checkin_id=checkin.id)).counts
    assert counts == {"safe": 10, "responding": 20, "need_help": 30}
    async with signed.yakuba.deps.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(DisasterStatus)) == 60
    [shown] = signed.slack.messages(saitama)
    assert tally_line(signed, 10, 20, 30) in all_text(shown)
    last_update = signed.slack.calls_to("chat.update", where={"channel": saitama})[-1]
    assert tally_line(signed, 10, 20, 30) in all_text(last_update.args)
    # Each member who asked for help is reported to the organiser once, whatever they pressed twice.
    helped = [m for m in signed.slack.dm_messages(people.organizer) if "支援が必要" in m.get("text", "")]
    assert len(helped) == 30
    assert len(signed.slack.ephemerals(pressers[0])) == 2
    assert texts(signed)("disaster.press.need_help") in all_text(signed.slack.ephemerals(pressers[0])[-1])


async def manual_checkin(signed, people, channel: str, message: str = "台風が近づいています。") -> tuple:
    response = await signed.command(people.organizer, "/kenjinkai", f"checkin {message}", channel_id=channel)
    assert texts(signed)("disaster.checkin.started") in all_text(await response.json())
    await signed.settle()
    [post] = signed.slack.messages(channel)
    async with signed.yakuba.deps.db.read() as session:
        checkin = await session.scalar(select(DisasterCheckin).where(DisasterCheckin.channel_id == channel))
    return checkin, post


async def test_manual_checkin_leads_organisers_and_who_sees_the_answers(app, people):
    signed = app
    t = texts(signed)
    await channels(signed, (SAITAMA, TOKYO))
    saitama, tokyo = await channel_of(signed, SAITAMA), await channel_of(signed, TOKYO)
    lead = signed.slack.add_user("sewayaku", "世話役 次郎")["id"]
    await add_member(signed, lead, pref=SAITAMA, muni=None, org_type="prefecture")
    await disaster_lead(signed, lead)
    await add_member(signed, people.member, pref=SAITAMA, muni=None, org_type="prefecture")

    refused = await signed.command(people.member, "/kenjinkai", "checkin", channel_id=saitama)
    assert t("disaster.checkin.refused") in all_text(await refused.json())
    elsewhere = await signed.command(lead, "/kenjinkai", "checkin", channel_id=tokyo)  # not their prefecture
    assert t("disaster.checkin.refused") in all_text(await elsewhere.json())
    nowhere = await signed.command(people.organizer, "/kenjinkai", "checkin", channel_id="C0GENERAL")
    assert t("disaster.checkin.not_kenjinkai") in all_text(await nowhere.json())

    hostile = "<!channel> 大雨です & 駅は混雑"
    started = await signed.command(lead, "/kenjinkai", f"checkin {hostile}", channel_id=saitama)
    assert t("disaster.checkin.started") in all_text(await started.json())
    await signed.settle()
    [post] = signed.slack.messages(saitama)
    assert header_of(post) == t("disaster.post.header_manual", prefecture="埼玉県")
    assert "&lt;!channel&gt; 大雨です &amp; 駅は混雑" in all_text(post) and "<!channel>" not in all_text(post)
    checkin_id = ids.row_value(
        (await disaster.of_event(signed.yakuba.deps.db, team_id=TEAM, event_id=await only_event(signed))).pop().id
    )

    await signed.action(people.member, f"{ids.ANSWER_ACTION}.need_help", checkin_id, channel_id=saitama, message=post)
    await signed.settle()
    for helper in (people.organizer, lead):
        [dm] = signed.slack.dm_messages(helper)
        assert dm["text"] == t("disaster.help_dm.text", user=ids.safe(people.member), prefecture="埼玉県")
    [shown] = signed.slack.messages(saitama)
    assert tally_line(signed, need_help=1) in all_text(shown)
    assert people.member not in all_text(shown)  # counts only: the channel never sees who answered what

    # 状況を見る: refused to a member, a modal for the lead.
    await signed.action(people.member, ids.VIEW_ACTION, checkin_id, channel_id=saitama, message=post)
    await signed.settle()
    assert signed.slack.views_for(people.member) == []
    assert t("disaster.answers.refused") in all_text(signed.slack.ephemerals(people.member)[-1])
    await signed.action(lead, ids.VIEW_ACTION, checkin_id, channel_id=saitama, message=post)
    await signed.settle()
    [view] = signed.slack.views_for(lead)
    assert f"<@{people.member}>" in all_text(view)
    assert t("disaster.answers.heading", status=t("disaster.status.need_help"), count=1) in all_text(view)


async def disaster_lead(signed, user_id: str) -> None:
    await members.set_lead(signed.yakuba.deps.db, team_id=TEAM, user_id=user_id, lead=True)


async def only_event(signed) -> str:
    async with signed.yakuba.deps.db.read() as session:
        return await session.scalar(select(DisasterCheckin.event_id))


async def test_feed_state_is_stored_per_feed_and_the_first_read_posts_nothing(app, jma, settings):
    signed = app
    await channels(signed, (SAITAMA,))
    jma.publish(FLASH)  # a real 5強 already in the feed when the bot starts watching: not posted
    await prime(signed, jma)
    assert signed.slack.messages(await channel_of(signed, SAITAMA)) == []
    stored = await disaster.feed_state(signed.yakuba.deps.db, team_id=TEAM, url=settings.yakuba_jma_feed_url)
    state = FeedState.from_dict(stored["feed"])
    assert stored["primed"] and state.etag and state.pending == () and len(state.seen) == 1
    # 304 from then on while nothing changes; the same minute is claimed once (a second replica gets "taken").
    await tick(signed, T0 + timedelta(minutes=1))
    assert jma.count("feed", status=304) == 1
    assert await job.run(signed.yakuba.deps, T0 + timedelta(minutes=1, seconds=20)) == "taken"


async def test_answers_are_exported_erased_on_forget_and_kept_only_for_the_retention_days(app, people):
    signed = app
    deps = signed.yakuba.deps
    await channels(signed, (SAITAMA,))
    saitama = await channel_of(signed, SAITAMA)
    await add_member(signed, people.member, pref=SAITAMA, muni=None, org_type="prefecture")
    checkin, post = await manual_checkin(signed, people, saitama)
    value = ids.row_value(checkin.id)
    await signed.action(people.member, f"{ids.ANSWER_ACTION}.responding", value, channel_id=saitama, message=post)
    await signed.action("U0OTHER01", f"{ids.ANSWER_ACTION}.safe", value, channel_id=saitama, message=post)
    await signed.settle()

    response = await signed.command(people.member, "/mydata", "export")
    assert response.status == 200
    await signed.settle()
    dm = signed.slack.dm_messages(people.member)[-1]
    data = json.loads(signed.slack.file(dm["files"][0]["id"])["content"])
    [answer] = data["disaster_checkins"]
    assert (answer["status"], answer["prefecture"], answer["kind"]) == ("responding", SAITAMA, "manual")

    await forget_member(deps, team_id=TEAM, user_id=people.member)
    await signed.settle()
    assert (await disaster.tally(deps.db, checkin_id=checkin.id)).counts == {"safe": 1, "responding": 0, "need_help": 0}
    [shown] = signed.slack.messages(saitama)
    assert tally_line(signed, safe=1) in all_text(shown)  # the post no longer counts the erased member

    # The nightly privacy job: answers older than YAKUBA_CHECKIN_RETENTION_DAYS (30) go, newer ones stay.
    days = signed.yakuba.settings.yakuba_checkin_retention_days
    assert days == 30
    assert await privacy_job.run(deps, signed.clock() + timedelta(days=days - 1)) == (
        "anonymised=0 checkin_answers_removed=0"
    )
    assert await privacy_job.run(deps, signed.clock() + timedelta(days=days, minutes=1)) == (
        "anonymised=0 checkin_answers_removed=1"
    )
    async with deps.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(DisasterStatus)) == 0


async def test_replay_posts_a_drill_marked_as_one_and_jobs_run_reads_the_feed(app, settings, jma, capsys):
    signed = app
    t = texts(signed)
    await channels(signed, ("22",))
    shizuoka = await channel_of(signed, "22")
    quake = read_telegram(FIXTURES / "vxse53_drill.xml")
    assert await cli_replay(settings, quake) == 0
    plain = Texts(settings.yakuba_lang, markup=False)
    assert capsys.readouterr().out.strip() == plain("disaster.replay.done", count=1, event=quake.event_id)
    [post] = signed.slack.messages(shizuoka)
    assert t("disaster.post.drill") in all_text(post)
    assert header_of(post) == t("disaster.post.header", prefecture="静岡県", intensity=t("disaster.intensity.6-"))
    # A telegram with nowhere to post says so.
    assert await cli_replay(settings, read_telegram(FIXTURES / "vxse53_below_threshold.xml")) == 0
    assert capsys.readouterr().out.strip() == plain("disaster.replay.none", intensity=plain("disaster.intensity.5-"))

    # `yakuba jobs run disaster_feed`: the scheduler's own path, from the shell.
    await run_job(settings, job.NAME, T0)
    assert capsys.readouterr().out.strip().endswith("→ done")
    stored = await disaster.feed_state(signed.yakuba.deps.db, team_id=TEAM, url=settings.yakuba_jma_feed_url)
    assert stored["primed"] is True


def test_replay_of_a_file_that_is_not_a_telegram_is_one_line(tmp_path, monkeypatch):
    bad = tmp_path / "bad.xml"
    bad.write_text("<Report><Control>", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    environ = {"SLACK_BOT_TOKEN": "xoxb-1", "YAKUBA_LANG": "en", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}
    result = CliRunner().invoke(main, ["disaster", "replay", str(bad)], env=environ)
    assert result.exit_code == 1
    assert result.stderr.strip() == Texts("en", markup=False)(
        "cli.disaster.bad_file", file=str(bad), reason="malformed"
    )
    assert result.stdout == ""


async def test_minute_claims_older_than_a_day_are_forgotten_on_the_hour(app, jma):
    signed = app
    deps = signed.yakuba.deps
    old = T0 - timedelta(days=2)
    await job_runs.claim(deps.db, team_id=TEAM, job=job.NAME, slot=old, owner="gone:1", status="done")
    await prime(signed, jma, at=T0.replace(minute=0) + timedelta(hours=1))
    slots = [run.slot for run in await job_runs.runs(deps.db, team_id=TEAM, job=job.NAME)]
    assert slots == [T0.replace(minute=0) + timedelta(hours=1)]


def test_the_post_clips_a_long_list_of_municipalities_and_shows_no_buttons_once_withdrawn():
    t = Texts("ja")
    cities = [f"市{i:02d}" for i in range(15)]
    checkin = DisasterCheckin(
        id=7, team_id=TEAM, event_id="e", pref_code="13", channel_id="C1", kind="quake", drill=False,
        withdrawn=False, version=1, info={"max_int": "6+", "level": "5-", "cities": cities, "title": "震度速報"},
    )  # fmt: skip
    tally = disaster.Tally(1, {"safe": 2, "responding": 1, "need_help": 0})
    text = all_text(ids.checkin_message(t, checkin, tally, JST))
    shown = ids.join(t("disaster.post.separator"), cities[: ids.CITIES_SHOWN])
    assert t("disaster.post.cities_more", cities=shown, count=15 - ids.CITIES_SHOWN) in text
    assert "市14" not in text
    assert t("disaster.post.tally", safe=2, responding=1, need_help=0) in text
    checkin.withdrawn = True
    withdrawn = ids.checkin_message(t, checkin, tally, JST)
    assert buttons(withdrawn) == [] and t("disaster.post.withdrawn") in all_text(withdrawn)


async def test_a_manual_checkin_delivered_twice_posts_once(app, people):
    # Slack may deliver one slash command twice (a retry after a slow ack): the same trigger_id is the same
    # check-in, so the 県人会 channel gets one post, not two.
    signed = app
    await channels(signed, (SAITAMA,))
    saitama = await channel_of(signed, SAITAMA)
    url = signed.slack.new_response_url(channel=saitama, user=people.organizer)
    body = req.command_body(
        "/kenjinkai",
        "checkin 停電しています。",
        user_id=people.organizer,
        channel_id=saitama,
        trigger_id="13345224609.738474920.8088930838d88f008e0",
        response_url=url,
    )
    for _ in range(2):
        response = await signed.post(body)
        assert texts(signed)("disaster.checkin.started") in all_text(await response.json())
    await signed.settle()
    assert len(signed.slack.messages(saitama)) == 1
    async with signed.yakuba.deps.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(DisasterCheckin)) == 1
