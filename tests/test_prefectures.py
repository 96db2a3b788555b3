"""県人会 channels: set-up (slash command and CLI) is idempotent; /kenjinkai shows the association."""

from __future__ import annotations

import asyncio
import json
import os

from click.testing import CliRunner

from bot.cli import main
from bot.local import requests as req
from bot.services.prefectures import setup_prefectures
from bot.texts import Texts
from bot.texts.markup import safe
from storage import members, prefectures
from tests.conftest import TOKEN
from tests.membership_flow import TEAM, approved, cards, channels, decide, register


def texts(signed):
    return signed.yakuba.deps.texts


async def test_setup_creates_links_and_is_idempotent(signed, people):
    existing = signed.slack.add_channel("kenjinkai-01-hokkaido", bot_member=False)["id"]
    response = await signed.command(people.organizer, "/yakuba", "setup prefectures")
    assert (await response.json())["text"] == texts(signed)("prefectures.setup.started")
    await signed.settle()
    report = [e["text"] for e in signed.slack.ephemerals(people.organizer)][-1]
    assert report == texts(signed)("prefectures.setup.report", created=46, linked=1, unchanged=0, failed=0)
    recorded = await prefectures.all_channels(signed.yakuba.deps.db, team_id=TEAM)
    assert len(recorded) == 47
    assert recorded["01"].channel_id == existing and recorded["13"].name == "kenjinkai-13-tokyo"
    assert recorded["27"].name == "kenjinkai-27-osaka" and recorded["47"].name == "kenjinkai-47-okinawa"
    assert req.BOT_USER_ID in signed.slack.channel(existing)["members"]
    assert len(signed.slack.calls_to("conversations.create")) == 46

    await signed.command(people.organizer, "/yakuba", "setup prefectures")
    await signed.settle()
    report = [e["text"] for e in signed.slack.ephemerals(people.organizer)][-1]
    assert report == texts(signed)("prefectures.setup.report", created=0, linked=0, unchanged=47, failed=0)
    assert len(signed.slack.calls_to("conversations.create")) == 46


async def test_setup_is_for_organisers_only(signed, people):
    answer = await (await signed.command(people.member, "/yakuba", "setup prefectures")).json()
    assert answer["text"] == texts(signed)("prefectures.setup.refused")
    await signed.settle()
    assert signed.slack.calls_to("conversations.create") == []


async def test_setup_reports_failures_and_custom_pattern(signed, people):
    deps = signed.yakuba.deps
    deps.settings = deps.settings.model_copy(update={"yakuba_prefecture_channel_pattern": "pref-{romaji}"})
    signed.slack.error("conversations.create", "restricted_action", where={"name": "pref-kyoto"})
    await channels_allowing_failure(signed)
    recorded = await prefectures.all_channels(deps.db, team_id=TEAM)
    assert len(recorded) == 46 and recorded["13"].name == "pref-tokyo" and "26" not in recorded


async def channels_allowing_failure(signed) -> None:
    report = await setup_prefectures(signed.yakuba.deps, team_id=TEAM)
    assert report.failures == [("pref-kyoto", "restricted_action")]


async def test_kenjinkai_shows_channel_members_governments_and_leads(signed, people):
    await channels(signed)
    answer = await (await signed.command(people.member, "/kenjinkai")).json()
    assert answer["text"] == texts(signed)("prefectures.kenjinkai.not_registered")

    await register(signed, people.member)
    answer = await (await signed.command(people.member, "/kenjinkai")).json()
    assert answer["text"] == texts(signed)("prefectures.kenjinkai.pending", prefecture="東京都")

    await signed.settle()
    await decide(signed, people.organizer, cards(signed, people.admin_channel, people.member)[0], people.admin_channel)
    colleague = signed.slack.add_user("sato", "佐藤")["id"]
    neighbour = signed.slack.add_user("ito", "伊藤")["id"]
    await approved(signed, people, colleague, name="佐藤", muni="131016")
    await approved(signed, people, neighbour, name="伊藤", muni="131032")
    osaka = signed.slack.add_user("kimura", "木村")["id"]
    await approved(signed, people, osaka, name="木村", pref="27", muni="271004")
    assert await members.set_lead(signed.yakuba.deps.db, team_id=TEAM, user_id=colleague)

    answer = await (await signed.command(people.member, "/kenjinkai")).json()
    tokyo = await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code="13")
    fields = [f["text"] for b in answer["blocks"] if "fields" in b for f in b["fields"]]
    assert fields == [
        texts(signed)("prefectures.kenjinkai.channel", channel=safe(f"<#{tokyo.channel_id}>")),
        texts(signed)("prefectures.kenjinkai.members", count=3),
        texts(signed)("prefectures.kenjinkai.governments", count=2),
        texts(signed)("prefectures.kenjinkai.leads", leads=safe(f"<@{colleague}>")),
    ]
    assert answer["text"] == texts(signed)("prefectures.kenjinkai.title", prefecture="東京都")
    usage = await (await signed.command(people.member, "/kenjinkai", "dance")).json()
    assert usage["response_type"] == "ephemeral" and "/kenjinkai" in json.dumps(usage, ensure_ascii=False)


async def test_cli_setup_prefectures(slack, settings, tmp_path):
    env = {
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": slack.base_url,
        "DATABASE_URL": settings.database_url,
        "YAKUBA_ADMIN_CHANNEL": "",
        "YAKUBA_ORGANIZERS": "",
    }
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(tmp_path)  # no stray .env
    try:
        first = await asyncio.to_thread(runner.invoke, main, ["setup", "prefectures"], env=env)
        again = await asyncio.to_thread(runner.invoke, main, ["setup", "prefectures"], env=env)
    finally:
        os.chdir(cwd)
    assert first.exit_code == 0, first.output
    cli = Texts("ja", markup=False)
    assert cli("cli.setup.prefectures", created=47, linked=0, unchanged=0, failed=0) in first.output
    assert cli("cli.setup.prefectures", created=0, linked=0, unchanged=47, failed=0) in again.output
    assert len(slack.calls_to("conversations.create")) == 47


async def test_members_approved_before_their_channel_existed_are_told_then_welcomed_once_by_setup(signed, people):
    from bot.blocks.approvals import channel_ready_dm, greeting
    from tests.membership_flow import approved, member

    t = texts(signed)
    row = await approved(signed, people, people.member)  # no prefecture channels exist yet
    assert row.placed_pref_code is None
    assert signed.slack.calls_to("conversations.invite") == []
    [told] = signed.slack.dm_messages(people.member)[1:]  # after "registration received"
    assert t("approvals.approved_dm.no_channel", prefecture="東京都") in json.dumps(told, ensure_ascii=False)

    async def setup() -> None:
        response = await signed.command(people.organizer, "/yakuba", "setup prefectures")
        assert response.status == 200
        await signed.settle()

    await setup()
    tokyo = await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code="13")
    [invite] = signed.slack.calls_to("conversations.invite")
    assert (invite.args["channel"], invite.args["users"]) == (tokyo.channel_id, people.member)
    profile = members.Profile.of(await member(signed, people.member))
    expected = greeting(t, user_id=people.member, profile=profile)["text"]
    assert [m["text"] for m in signed.slack.messages(tokyo.channel_id)] == [expected]
    ready = channel_ready_dm(t, pref_code="13", channel_id=tokyo.channel_id)
    assert [m["text"] for m in signed.slack.dm_messages(people.member)[2:]] == [ready["text"]]
    assert f"<#{tokyo.channel_id}>" in json.dumps(signed.slack.dm_messages(people.member)[-1]["blocks"])
    assert (await member(signed, people.member)).placed_pref_code == "13"

    await setup()  # running set-up again invites, greets and tells no one again
    assert len(signed.slack.calls_to("conversations.invite")) == 1
    assert len(signed.slack.messages(tokyo.channel_id)) == 1 and len(signed.slack.dm_messages(people.member)) == 3

    # A member who leaves their channel is invited back by the next set-up, but not greeted a second time.
    signed.slack.remove_members(tokyo.channel_id, people.member)
    await members.set_placed(signed.yakuba.deps.db, member_id=row.id, pref_code=None)
    await setup()
    assert len(signed.slack.calls_to("conversations.invite")) == 2
    assert len(signed.slack.messages(tokyo.channel_id)) == 1 and len(signed.slack.dm_messages(people.member)) == 3


async def test_a_member_approved_after_the_channel_exists_is_greeted_once_not_again_by_setup(signed, people):
    from tests.membership_flow import approved

    await channels(signed, codes=("13",))
    await approved(signed, people, people.member)
    tokyo = await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code="13")
    assert len(signed.slack.messages(tokyo.channel_id)) == 1
    dms = len(signed.slack.dm_messages(people.member))
    await signed.command(people.organizer, "/yakuba", "setup prefectures")
    await signed.settle()
    assert len(signed.slack.messages(tokyo.channel_id)) == 1 and len(signed.slack.dm_messages(people.member)) == dms
