"""App Home: published on app_home_opened for members (profile, 県人会, 課, today's 庁内放送) and organisers."""

from __future__ import annotations

import json
from datetime import time

from bot.blocks import home as ids
from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.local import requests as req
from bot.texts.markup import safe
from storage import prefectures, programs, sections
from storage.recurrence import Recurrence
from tests.community_flow import add_member, all_text, seed_sections, texts
from tests.membership_flow import TEAM, approved, channels, register


def buttons(view: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]}


async def open_home(signed, user_id: str) -> dict:
    response = await signed.event(req.app_home_opened_event(user_id))
    assert response.status == 200
    await signed.settle()
    view = signed.slack.home_view(user_id)
    assert view is not None and view["type"] == "home"
    return view


async def test_member_sees_profile_kenjinkai_sections_and_todays_programmes(signed, people):
    await channels(signed)
    found = await seed_sections(signed)
    await programs.upsert_program(
        db=signed.yakuba.deps.db,
        team_id=TEAM,
        spec=programs.ProgramSpec(
            name="morning",
            title="Morning <b>News</b>",
            recurrence=Recurrence(kind="daily"),
            start_time=time(12, 0),
            duration_min=30,
        ),
    )
    await approved(signed, people, people.member, interests="写真")
    view = await open_home(signed, people.member)
    text, t = all_text(view["blocks"]), texts(signed)
    tokyo = await prefectures.channel_for(signed.yakuba.deps.db, team_id=TEAM, pref_code="13")
    assert "田中 一郎" in text and "総務部 広報課" in text and "千代田区" in text
    assert t("home.status", status=t("home.statuses.approved")) in text
    assert t("home.kenjinkai", channel=safe(f"<#{tokyo.channel_id}>")) in text
    assert f"• 写真部 <#{found['写真部'].channel_id}>" in text
    assert t("home.program_line", time="12:00", title=safe("Morning &lt;b&gt;News&lt;/b&gt;")) in text
    actions = buttons(view)
    assert actions[OPEN_REGISTRATION]["text"]["text"] == t("home.edit")
    assert ids.FAQ_SEARCH in actions
    assert t("home.organizer") not in text


async def test_newcomer_gets_a_register_button(signed, people):
    view = await open_home(signed, people.member)
    text, t = all_text(view["blocks"]), texts(signed)
    assert t("home.not_registered") in text and t("home.no_programs") in text
    register_button = buttons(view)[OPEN_REGISTRATION]
    assert register_button["text"]["text"] == t("home.register") and register_button["style"] == "primary"


async def test_organiser_sees_pending_approvals_and_statistics(signed, people):
    await channels(signed)
    await add_member(signed, "U0OTHER", pref="27", muni=None, org_type="prefecture")
    await register(signed, people.member)
    view = await open_home(signed, people.organizer)
    text, t = all_text(view["blocks"]), texts(signed)
    assert t("home.organizer") in text
    assert t("home.pending", count=1) in text and f"<@{people.member}>" in text
    assert t("home.stats", summary=t("directory.stats.summary", members="1", governments="1")) in text


async def test_home_publishes_again_on_each_open_and_ignores_other_tabs(signed, people):
    await open_home(signed, people.member)
    await add_member(signed, people.member)
    await sections.join(
        signed.yakuba.deps.db,
        team_id=TEAM,
        user_id=people.member,
        section_id=(await seed_sections(signed))["防災課"].id,
    )
    view = await open_home(signed, people.member)
    assert "防災課" in all_text(view["blocks"])
    before = len(signed.slack.calls_to("views.publish"))
    await signed.event(req.app_home_opened_event(people.member, tab="messages"))
    await signed.settle()
    assert len(signed.slack.calls_to("views.publish")) == before


async def test_faq_search_from_home(signed, people):
    from storage import faqs

    await faqs.upsert(
        db=signed.yakuba.deps.db,
        team_id=TEAM,
        question="ワクチンの保管温度は？",
        answer="-75℃前後で保管します。",
        source="第7回ワクチン接種情報交換会 FAQ",
    )
    view = await open_home(signed, people.member)
    await signed.action(people.member, ids.FAQ_SEARCH, "home", view=view)
    await signed.settle()
    modal = signed.slack.open_views(people.member)[-1]
    values = req.state_values({ids.FAQ_BLOCK: {ids.FAQ_INPUT: "ワクチン 保管"}})
    response = await signed.submit(people.member, modal, values)
    result = json.loads(await response.text())
    assert result["response_action"] == "update"
    assert "ワクチンの保管温度は？" in all_text(result["view"]["blocks"])
