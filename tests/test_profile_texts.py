"""What members read follows the community profile (#16): help, App Home, the welcome and approved DMs name no
feature the profile switches off, and a profile other than the built-in one reads no オンライン市役所 wording."""

from __future__ import annotations

import json

import pytest

from bot.config import Settings
from bot.local import requests as req
from bot.manifest import manifest
from bot.texts import Texts
from schedules import intro as jobs
from storage import intro
from storage.community import Approval, in_force
from tests.community_flow import add_member
from tests.membership_flow import TEAM, channels, open_form
from tests.test_intro import FIRST
from tests.test_profile_registration import PROFILE, auto_applicant, submit, values

OFF = {"prefecture_channels": False, "sections": False, "programs": False, "directory_map": False}
# The commands (and verbs) of each feature, as members would type them.
OFF_COMMANDS = ("`/kenjinkai", "`/ka", "`/programs", "`/members map", "`/yakuba setup prefectures", "`/yakuba lead")
# Lines only the built-in オンライン市役所 profile may show: 説明会, 入庁, 庁内放送, "3ステップ", 50以上の課.
BUILT_IN_ONLY = (
    "onboarding.welcome.intro",
    "onboarding.welcome.step1",
    "onboarding.welcome.step3",
    "approvals.approved_dm.briefing",
    "approvals.approved_dm.broadcast_plain",
    "approvals.approved_dm.sections",
    "home.today",
)


@pytest.fixture
def settings(settings: Settings, tmp_path) -> Settings:
    path = tmp_path / "community.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    return settings.model_copy(update={"yakuba_community": str(path)})


def switch(signed, **features: bool) -> None:
    deps = signed.yakuba.deps
    changed = deps.community.features.model_copy(update=features)
    deps.community = deps.community.model_copy(update={"features": changed})


def shown(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False)


def lines_of(texts, key: str, **params) -> list[str]:
    """A catalogue text's lines, stripped of what templates add (to look for each in a transcript)."""
    return [line for line in str(texts(key, **params)).split("{")[0].splitlines() if line.strip()]


async def help_of(signed, user: str, command: str = "/yakuba", text: str = "help") -> str:
    return shown(json.loads(await (await signed.command(user, command, text)).text()))


async def test_help_names_no_feature_the_profile_switches_off(signed, people):
    texts = signed.yakuba.deps.texts
    switch(signed, **OFF)
    for user in (people.member, people.organizer):
        for command, text in (("/yakuba", "help"), ("/yakuba", "おしえて"), ("/nosuch", "")):
            answer = await help_of(signed, user, command, text)
            for off in OFF_COMMANDS:
                assert off not in answer, (user, command, off)
            assert texts("help.commands.members.summary") not in answer  # 統計・地図・エクスポート
            assert f"`/members` — {texts('help.commands.members.summary_no_map')}" in answer
    organiser = await help_of(signed, people.organizer)
    assert texts("help.organizer.title") in organiser
    for key in ("approvals", "announce", "faq", "members"):
        assert texts(f"help.organizer.lines.{key}") in organiser
    # A member's mistyped /members shows its usage without the map.
    usage = await help_of(signed, people.member, "/members", "chizu")
    assert texts("help.commands.members.hint_no_map") in usage and "map" not in usage
    stats = await help_of(signed, people.member, "/members", "stats")
    assert "`/members map`" not in stats and texts("directory.stats.footer_no_map") in stats
    # The organisers' verbs of 県人会 are switched off with it, typed or not.
    for text in ("setup prefectures", "lead"):
        answer = json.loads(await (await signed.command(people.organizer, "/yakuba", text)).text())
        assert answer["text"] == texts("help.feature_off")
    await signed.settle()
    assert signed.slack.calls_to("conversations.create") == [] and signed.slack.calls_to("views.open") == []


async def test_help_lists_what_the_profile_keeps_on(signed, people):
    texts = signed.yakuba.deps.texts
    organiser = await help_of(signed, people.organizer)
    for on in ("`/kenjinkai`", "`/programs`", "`/members`", "`/yakuba setup prefectures`", "`/yakuba lead`"):
        assert on in organiser
    assert f"`/members` — {texts('help.commands.members.summary')}" in organiser
    assert "`/ka`" not in organiser and "`/ka " not in organiser  # sections are off in this profile
    stats = await help_of(signed, people.member, "/members", "stats")
    assert texts("directory.stats.footer") in stats


async def test_welcome_of_a_custom_profile_uses_its_words_and_counts_its_own_steps(signed, people):
    texts = signed.yakuba.deps.texts
    await signed.event(req.team_join_event(signed.slack.user(people.member)))
    await signed.settle()
    [welcome] = signed.slack.dm_messages(people.member)
    assert welcome["text"] == texts("onboarding.welcome.fallback_steps", community="地域つなぐ会", n=3)
    body = shown(welcome)
    assert "ようこそ" in body and texts("onboarding.welcome.step2") in body  # 県人会 stays on in this profile
    assert texts("onboarding.welcome.look.programs") in body and texts("onboarding.welcome.look.sections") not in body
    for key in BUILT_IN_ONLY:
        for line in lines_of(texts, key):
            assert line not in body, key

    switch(signed, **OFF)
    newcomer = signed.slack.add_user("mika", "佐藤 美香")["id"]
    await signed.event(req.team_join_event(signed.slack.user(newcomer)))
    await signed.settle()
    [welcome] = signed.slack.dm_messages(newcomer)
    assert welcome["text"] == texts("onboarding.welcome.fallback_steps", community="地域つなぐ会", n=2)
    body = shown(welcome)
    assert "県人会" not in body and texts("onboarding.welcome.step2") not in body
    for off in OFF_COMMANDS:
        assert off not in body


async def test_approved_dm_of_a_custom_profile_has_no_built_in_lines(signed, people):
    texts = signed.yakuba.deps.texts
    await channels(signed, ("13",))
    user = await auto_applicant(signed)
    body = shown(signed.slack.dm_messages(user))
    assert texts("approvals.approved_dm.fallback", community="地域つなぐ会") in body
    assert "入庁" not in body and "説明会" not in body and "庁内放送" not in body
    for key in BUILT_IN_ONLY:
        for line in lines_of(texts, key):
            assert line not in body, key
    assert lines_of(texts, "approvals.approved_dm.programs")[0] in body  # programmes stay on

    switch(signed, **OFF)
    other = await auto_applicant(signed, "mika", "mika@town.example.lg.jp")
    body = shown(signed.slack.dm_messages(other))
    for off in OFF_COMMANDS:
        assert off not in body
    assert "県人会" not in body and texts("approvals.approved_dm.next") not in body


async def test_app_home_names_no_feature_switched_off(signed, people):
    texts = signed.yakuba.deps.texts
    switch(signed, **OFF)
    await signed.event(req.app_home_opened_event(people.member))
    await signed.settle()
    home = shown(signed.slack.home_view(people.member))
    assert texts("home.not_registered_plain") in home and "県人会" not in home
    assert lines_of(texts, "home.today_neutral")[0] not in home and "庁内放送" not in home
    for off in OFF_COMMANDS:
        assert off not in home

    switch(signed, programs=True)
    await submit(signed, people.member, values())
    await signed.event(req.app_home_opened_event(people.member))
    await signed.settle()
    view = signed.slack.home_view(people.member)
    sections = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert texts("home.today_neutral", lines=texts("home.no_programs_neutral")) in sections
    assert "庁内放送" not in shown(view) and texts("home.no_programs") not in shown(view)  # 放送予定


async def test_the_edit_form_and_forget_read_no_built_in_words_in_another_profile(signed, people):
    texts = signed.yakuba.deps.texts
    switch(signed, **OFF)
    await submit(signed, people.member, values())
    await signed.command(people.member, "/register")
    await signed.settle()
    edit = shown(signed.slack.open_views(people.member)[-1])
    assert texts("registration.modal.intro_edit_plain") in edit and "人事異動" not in edit
    forget = shown(json.loads(await (await signed.command(people.member, "/mydata", "forget")).text()))
    assert lines_of(texts, "privacy.forget.confirm_neutral")[1] in forget
    assert "入庁" not in forget and "役職" not in forget


async def test_programs_read_as_a_neutral_schedule_in_help_and_the_manifest(signed, people):
    texts = signed.yakuba.deps.texts
    neutral = texts("help.commands.programs.summary_neutral")
    for user in (people.member, people.organizer):
        answer = await help_of(signed, user)
        assert f"`/programs` — {neutral}" in answer and texts("help.commands.programs.summary") not in answer
    usage = await help_of(signed, people.member, "/programs", "nosuchverb")
    assert neutral in usage and "庁内放送" not in usage
    commands = {
        c["command"]: c for c in manifest(texts, community=signed.yakuba.deps.community)["features"]["slash_commands"]
    }
    assert commands["/programs"]["description"] == neutral
    switch(signed, programs=False)
    assert neutral not in await help_of(signed, people.organizer)
    commands = {
        c["command"] for c in manifest(texts, community=signed.yakuba.deps.community)["features"]["slash_commands"]
    }
    assert "/programs" not in commands


def test_the_manifest_describes_another_community_by_its_name(settings):
    community = in_force(settings.yakuba_community)
    for lang in ("ja", "en"):
        texts = Texts(lang)
        shown_to = manifest(texts, community=community)["display_information"]
        assert shown_to["description"] == texts("manifest.description_neutral", community="地域つなぐ会")
        assert shown_to["long_description"] == texts("manifest.long_description_neutral", community="地域つなぐ会")
        for built_in in ("manifest.description", "manifest.long_description"):
            assert texts(built_in) not in shown_to.values()
        assert "公務員" not in str(shown_to) and "public-servant" not in str(shown_to)


@pytest.mark.start("2026-11-20T09:00+09:00")  # before the first round: the start-up catch-up skips nothing
async def test_introductions_in_a_community_open_to_anyone_name_it_not_public_servants(signed, people):
    texts = signed.yakuba.deps.texts
    for i, pref in enumerate(("13", "27")):
        user = signed.slack.add_user(f"intro{i}", f"紹介 {i}")["id"]
        await add_member(signed, user, org_type="prefecture", pref=pref, muni=None, name=f"紹介{i}")
        await intro.set_optin(signed.yakuba.deps.db, team_id=TEAM, user_id=user, active=True)
    assert await signed.yakuba.scheduler.tick(jobs.JOB, FIRST.replace(second=30)) == [(FIRST, "done")]
    await signed.settle()
    [[message]] = signed.slack.group_dms().values()
    body = shown(message)
    assert texts("intro.message.lead_neutral", community="地域つなぐ会") in body
    assert texts("intro.message.lead") not in body and "公務員" not in body


async def test_the_form_of_an_auto_approved_community_says_who_is_approved_at_once(signed, people):
    texts = signed.yakuba.deps.texts
    view = shown(await open_form(signed, people.member))
    assert texts("registration.modal.intro_auto", community="地域つなぐ会", domains="lg.jp") in view
    assert texts("registration.modal.intro", community="地域つなぐ会") not in view
    deps = signed.yakuba.deps
    deps.community = deps.community.model_copy(update={"approval": Approval()})  # manual: organisers approve all
    view = shown(await open_form(signed, people.member))
    assert texts("registration.modal.intro", community="地域つなぐ会") in view
    assert texts("registration.modal.intro_auto", community="地域つなぐ会", domains="lg.jp") not in view
