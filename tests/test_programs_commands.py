"""/programs over signed HTTP: schedule, subscriptions, the line-up button, the organisers' modal, `jobs run`."""

from __future__ import annotations

import pytest

from bot.app import create_app
from bot.blocks.programs import SUBSCRIBE
from bot.cli.operations import import_file, run_job
from bot.config import ConfigError
from bot.local import requests as req
from bot.server import init_web
from schedules.scheduler import Scheduler
from storage import programs as repo
from storage.program_io import import_programs
from tests.conftest import SignedSlack
from tests.test_programs_schedule import CATALOGUE, Clock, jst


@pytest.fixture
def cast(slack):
    users = {name: slack.add_user(name)["id"] for name in ("p1", "p2", "p3", "p4")}
    users["vax"] = slack.add_channel("vaccine-koukankai")["id"]
    return users


@pytest.fixture
async def bot(aiohttp_client, settings, slack, cast) -> SignedSlack:
    yakuba = create_app(settings, clock=Clock(jst("2030-01-19T13:00")))  # a Saturday: asa and vaccine on air
    http = await aiohttp_client(init_web(yakuba))
    report = await import_programs(db=yakuba.deps.db, team_id=yakuba.deps.team_id, source=CATALOGUE.format(**cast))
    assert report.ok
    return SignedSlack(http=http, yakuba=yakuba, slack=slack, clock=yakuba.deps.clock)


async def ask(bot: SignedSlack, user: str, text: str) -> dict:
    response = await bot.command(user, "/programs", text)
    assert response.status == 200
    await bot.settle()
    return await response.json() if response.content_length else {}


def body(answer: dict) -> str:
    return str(answer.get("blocks")) + answer.get("text", "")


async def stored(bot: SignedSlack) -> dict[str, repo.StoredProgram]:
    every = await repo.list_programs(db=bot.yakuba.deps.db, team_id="T0LOCAL", active_only=False)
    return {p.name: p for p in every}


async def test_today_and_week(bot, people):
    texts = bot.yakuba.deps.texts
    for text in ("", "today"):
        answer = await ask(bot, people.member, text)
        assert answer["response_type"] == "ephemeral"
        assert texts("programs.date", month=1, day=19, weekday=texts("programs.weekdays").split(",")[5]) in body(answer)
        assert "朝の体操" in body(answer) and "ワクチン接種情報交換会" in body(answer)
        assert "おはよう庁内放送" not in body(answer)
        buttons = [b["accessory"] for b in answer["blocks"] if b.get("accessory", {}).get("action_id") == SUBSCRIBE]
        assert [b["text"]["text"] for b in buttons] == [texts("programs.lineup.subscribe")] * 2
    week = await ask(bot, people.member, "week")
    assert len([b for b in week["blocks"] if b["type"] == "section"]) == 7
    assert body(week).count("おはよう庁内放送") == 5 and body(week).count("深夜の自習室") == 1


async def test_subscribe_unsubscribe_fuzzy_ambiguous_unknown(bot, people):
    texts = bot.yakuba.deps.texts
    answer = await ask(bot, people.member, "subscribe 情報交換")  # a unique partial match
    assert texts("programs.subscribe.done", title="ワクチン接種情報交換会", minutes=10) in body(answer)
    answer = await ask(bot, people.member, "subscribe VACCINE")
    assert texts("programs.subscribe.already", title="ワクチン接種情報交換会") in body(answer)
    vaccine = (await stored(bot))["vaccine"]
    assert await repo.list_subscribers(db=bot.yakuba.deps.db, team_id="T0LOCAL", program_id=vaccine.id) == [
        people.member
    ]
    answer = await ask(bot, people.member, "subscribe の")
    assert texts("programs.find.ambiguous", query="の", names="")[:6] in body(answer)
    assert "asa" in body(answer) and "shinya" in body(answer)
    answer = await ask(bot, people.member, "subscribe vacine")
    assert texts("programs.find.unknown", query="vacine") in body(answer) and "`vaccine`" in body(answer)
    answer = await ask(bot, people.member, "unsubscribe vaccine")
    assert texts("programs.subscribe.removed", title="ワクチン接種情報交換会") in body(answer)
    answer = await ask(bot, people.member, "unsubscribe vaccine")
    assert texts("programs.subscribe.not_subscribed", title="ワクチン接種情報交換会") in body(answer)
    answer = await ask(bot, people.member, "subscribe")
    assert texts("programs.find.missing_name", verb="subscribe") in body(answer)


async def test_bad_subcommands_get_the_usage_and_hostile_text_is_escaped(bot, people):
    texts = bot.yakuba.deps.texts
    for text in ("dance", "today extra", "add now"):
        answer = await ask(bot, people.member, text)
        assert answer["text"] == texts("help.usage_title", command="programs")
    answer = await ask(bot, people.member, "subscribe <!channel> <@U00000001>")
    assert "<!channel>" not in body(answer) and "<@U00000001>" not in body(answer)
    assert "&lt;!channel&gt;" in body(answer)
    answer = await ask(bot, people.member, "week")
    assert "ひるやすみ &lt;!channel&gt;" in body(answer) and "<!channel>" not in body(answer)


async def test_the_lineup_button_subscribes(bot, people):
    scheduler = Scheduler(bot.yakuba.deps)
    await scheduler.tick(scheduler.jobs["digest"], jst("2030-01-20T08:31"))
    await bot.settle()
    [lineup] = bot.slack.messages(people.broadcast_channel)
    [button] = [b["accessory"] for b in lineup["blocks"] if b.get("accessory", {}).get("action_id") == SUBSCRIBE]
    for _ in range(2):
        response = await bot.action(
            people.member, SUBSCRIBE, button["value"], channel_id=people.broadcast_channel, message=lineup
        )
        assert response.status == 200
        await bot.settle()
    texts = bot.yakuba.deps.texts
    replies = [e["text"] for e in bot.slack.ephemerals(people.member)]
    assert replies == [
        texts("programs.subscribe.done", title="朝の体操", minutes=10),
        texts("programs.subscribe.already", title="朝の体操"),
    ]
    await bot.action(people.member, SUBSCRIBE, "999999", channel_id=people.broadcast_channel, message=lineup)
    await bot.settle()
    assert bot.slack.ephemerals(people.member)[-1]["text"] == texts("programs.subscribe.gone")


def form(**fields) -> dict:
    """Modal state as Slack sends it; every field is optional, like a half-filled form."""
    kinds = {
        "personalities": lambda v: {"type": "multi_users_select", "selected_users": v},
        "kind": lambda v: {"type": "static_select", "selected_option": {"value": v}},
        "holidays": lambda v: {"type": "static_select", "selected_option": {"value": v}},
        "nth": lambda v: {"type": "static_select", "selected_option": {"value": v}},
        "start": lambda v: {"type": "timepicker", "selected_time": v},
        "duration": lambda v: {"type": "number_input", "value": v},
        "date": lambda v: {"type": "datepicker", "selected_date": v},
        "start_date": lambda v: {"type": "datepicker", "selected_date": v},
        "end_date": lambda v: {"type": "datepicker", "selected_date": v},
        "channel": lambda v: {"type": "conversations_select", "selected_conversation": v},
    }
    return req.state_values({k: {"value": kinds.get(k, lambda v: v)(v)} for k, v in fields.items()})


async def open_modal(bot: SignedSlack, user: str, text: str) -> dict:
    await ask(bot, user, text)
    return bot.slack.open_views(user)[-1]


async def test_organiser_adds_with_inline_errors_then_saves(bot, people, cast):
    texts = bot.yakuba.deps.texts
    view = await open_modal(bot, people.organizer, "add")
    assert view["callback_id"] == "programs.save" and view["private_metadata"] == ""
    before = await stored(bot)
    bad = form(
        title="写真部",
        name="shashin",
        kind="weekly",
        weekdays="funday",
        start="25:00",
        duration="60",
        holidays="keep",
        start_date="2030-02-01",
        end_date="2030-01-01",
        personalities=[cast["p1"], "U0NOBODY1"],
    )
    response = await bot.submit(people.organizer, view, bad)
    answer = await response.json()
    assert answer["response_action"] == "errors"
    errors = answer["errors"]
    assert texts("programs.error.bad_time", value="25:00") in errors["start"]
    assert texts("programs.error.bad_weekday", value="funday") in errors["weekdays"]
    assert texts("programs.error.unknown_user", user="U0NOBODY1") in errors["personalities"]
    # A recurrence is read up to its first mistake: with the weekday right, the dates are judged.
    bad = form(
        title="写真部",
        kind="weekly",
        weekdays="土",
        start="10:00",
        duration="60",
        holidays="keep",
        start_date="2030-02-01",
        end_date="2030-01-01",
    )
    errors = (await (await bot.submit(people.organizer, view, bad)).json())["errors"]
    assert errors == {"end_date": texts("programs.error.date_order", start_date="2030-02-01", end_date="2030-01-01")}
    assert await stored(bot) == before  # nothing saved
    good = form(
        title="写真部 <!here>",
        name="shashin",
        kind="biweekly",
        weekdays="土",
        date="2030-01-19",
        start="21:30",
        duration="45",
        holidays="skip",
        personalities=[cast["p1"]],
        stream_url="https://example.com/live",
    )
    answer = await (await bot.submit(people.organizer, view, good)).json()
    assert answer["response_action"] == "update"
    saved = (await stored(bot))["shashin"]
    assert saved.title == "写真部 <!here>" and saved.recurrence.kind == "biweekly" and saved.duration_min == 45
    assert "2030-01-19 21:30" in str(answer["view"]) and "&lt;!here&gt;" in str(answer["view"])
    # Adding a second programme under a taken name is refused, not an overwrite.
    view = await open_modal(bot, people.organizer, "add")
    answer = await (await bot.submit(people.organizer, view, good)).json()
    assert answer["errors"] == {"name": texts("programs.form.name_taken", name="shashin")}


async def test_organiser_edits_pauses_and_resumes(bot, people):
    texts = bot.yakuba.deps.texts
    view = await open_modal(bot, people.organizer, "edit asa")
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert "name" not in blocks and blocks["start"]["initial_time"] == "07:00"
    assert blocks["kind"]["initial_option"]["value"] == "daily"
    asa = (await stored(bot))["asa"]
    values = form(
        title="朝の体操",
        kind="daily",
        start="06:45",
        duration="20",
        holidays="keep",
        personalities=list(asa.personalities),
    )
    answer = await (await bot.submit(people.organizer, view, values)).json()
    assert answer["response_action"] == "update"
    edited = (await stored(bot))["asa"]
    assert (edited.id, edited.start_time.isoformat(), edited.duration_min) == (asa.id, "06:45:00", 20)
    answer = await ask(bot, people.organizer, "pause asa")
    assert texts("programs.admin.paused", title="朝の体操", name="asa") in body(answer)
    assert "朝の体操" not in body(await ask(bot, people.member, "today"))
    again = await ask(bot, people.organizer, "pause asa")
    assert texts("programs.admin.already_paused", title="朝の体操") in body(again)
    answer = await ask(bot, people.organizer, "resume asa")
    assert texts("programs.admin.resumed", title="朝の体操") in body(answer)
    assert "朝の体操" in body(await ask(bot, people.member, "today"))


async def test_non_organisers_are_refused_in_the_handler(bot, people):
    texts = bot.yakuba.deps.texts
    for text in ("add", "edit asa", "pause asa", "resume asa"):
        answer = await ask(bot, people.member, text)
        assert body(answer).count(texts("programs.admin.not_allowed")) >= 1
    assert bot.slack.open_views(people.member) == []
    # A forged submission of the organisers' modal saves nothing either.
    view = await open_modal(bot, people.organizer, "add")
    values = form(title="X", kind="daily", start="10:00", duration="10", holidays="keep")
    answer = await (await bot.submit(people.member, view, values)).json()
    assert answer["errors"] == {"title": texts("programs.admin.not_allowed")}
    assert "x" not in await stored(bot)


async def test_jobs_run_digest_honours_the_claim(bot, settings, people, capsys):
    await run_job(settings, "digest", jst("2030-01-21T08:30"))
    await run_job(settings, "digest", jst("2030-01-21T08:35"))
    out = capsys.readouterr().out
    assert "2030-01-21T08:30:00+09:00 → done" in out and "2030-01-21T08:30:00+09:00 → taken" in out
    [post] = bot.slack.messages(people.broadcast_channel)
    assert "おはよう庁内放送" in str(post["blocks"])


async def test_cli_import_reports_each_bad_entry_and_saves_the_good(bot, settings, cast, tmp_path, capsys):
    path = tmp_path / "programs.yaml"
    path.write_text(
        "programs:\n"
        f"  - {{name: kohi, title: 珈琲課, personalities: [{cast['p2']}], start: '15:00', duration: 20,"
        " recurrence: daily}\n"
        "  - {name: bad, title: 悪い例, personalities: [U0NOBODY1], start: '25:00', duration: 20,"
        " recurrence: {kind: weekly, weekdays: [funday]}}\n",
        encoding="utf-8",
    )
    assert await import_file(settings, "programs", path) == 1
    out = capsys.readouterr().out
    texts = bot.yakuba.deps.texts
    for problem in (
        texts("programs.error.bad_time", value="25:00"),
        texts("programs.error.unknown_user", user="U0NOBODY1"),
    ):
        assert texts("programs.import.entry", index=2, line=3, name="bad", reason=problem) in out
    assert texts("programs.import.summary", total=2, created=1, updated=0, unchanged=0, errors=1) in out
    assert set(await stored(bot)) >= {"kohi"} and "bad" not in await stored(bot)
    with pytest.raises(ConfigError) as refused:
        await import_file(settings, "nonsense", path)
    assert refused.value.key == "cli.import.unknown_kind" and refused.value.exit_code == 2
