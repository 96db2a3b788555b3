"""Demo journeys 1 and 5: register → approve → 県人会; a reject; a transfer (人事異動), leaving, and APPI."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bot.blocks import approvals as approval_ids
from bot.blocks import privacy as privacy_ids
from bot.blocks import registration as ids
from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.local import requests as req
from bot.local.demo.story import JST, StoryClock, press_confirmed, quietly
from bot.local.workspace import LocalWorkspace
from bot.services.prefectures import setup_prefectures
from storage.models import Section
from storage.section_io import import_sections

SECTIONS = Path(__file__).resolve().parents[3] / "storage" / "data" / "sections.example.yaml"


def _select(option: dict) -> dict:
    return {"type": "static_select", "selected_option": option}


async def register(
    ws: LocalWorkspace, *, name: str, pref: str, pref_name: str, typed: str, department: str, forgot: bool = False
) -> None:
    """Fill the registration modal that is open for the current user, typing `typed` into the municipality box.

    With `forgot`, the department is first left empty, to show how the form names the field to fill in.
    """
    options = await ws.suggest(ids.MUNI, typed)
    ws.narrate("demo.membership.typed", typed=typed, found=" / ".join(o["text"]["text"] for o in options[:3]))
    values = {
        ids.NAME_BLOCK: {ids.NAME: name},
        ids.ORG_TYPE_BLOCK: {
            ids.ORG_TYPE: _select({"text": {"type": "plain_text", "text": "-"}, "value": "municipality"})
        },
        ids.PREF_BLOCK: {ids.PREF: _select({"text": {"type": "plain_text", "text": pref_name}, "value": pref})},
        ids.MUNI_BLOCK: {ids.MUNI: {"type": "external_select", "selected_option": options[0]}},
        ids.DEPT_BLOCK: {ids.DEPT: department},
        ids.CONFIRM_BLOCK: {
            ids.CONFIRM: {
                "type": "checkboxes",
                "selected_options": [{"text": {"type": "plain_text", "text": "-"}, "value": ids.CONFIRM_VALUE}],
            }
        },
    }
    if forgot:
        ws.narrate("demo.membership.form_error")
        await ws.submit({**values, ids.DEPT_BLOCK: {ids.DEPT: ""}})
        ws.narrate("demo.membership.form_fixed")
    await ws.submit(values)


async def journey_join(ws: LocalWorkspace, story: StoryClock) -> None:
    deps = ws.yakuba.deps
    report = await setup_prefectures(deps, team_id=deps.team_id, actor=ws.organizer)
    ws.discard()
    ws.narrate("demo.membership.setup", count=report.created + report.linked + report.unchanged)
    ws.narrate("demo.join", name="田中 一郎")
    tanaka = await ws.join("tanaka", "田中 一郎")
    ws.narrate("demo.unknown")
    await ws.command("/yakuba", "おしえて")
    ws.narrate("demo.membership.press_register")
    await ws.click_action(OPEN_REGISTRATION)
    await register(
        ws, name="田中 一郎", pref="13", pref_name="東京都", typed="しぶや", department="デジタル推進課", forgot=True
    )
    ws.narrate("demo.membership.approve")
    ws.me = ws.organizer
    await ws.click_action(approval_ids.APPROVE)
    await community(ws, tanaka)
    ws.narrate("demo.membership.reject_intro", name="鈴木 次郎")
    await ws.join("suzuki", "鈴木 次郎")
    await ws.command("/register")
    await register(ws, name="鈴木 次郎", pref="27", pref_name="大阪府", typed="osaka", department="-")
    ws.me = ws.organizer
    await ws.click_action(approval_ids.REJECT)
    await ws.submit({approval_ids.REASON_BLOCK: {approval_ids.REASON: ws.texts("demo.membership.reason")}})

    # Journey 5 needs a second approved member who will leave; her joining is Tanaka's, already shown.
    ws.narrate("demo.membership.also_joined", name="山田 さくら")

    async def yamada_joins() -> None:
        await ws.join("yamada", "山田 さくら")
        await ws.command("/register")
        await register(ws, name="山田 さくら", pref="01", pref_name="北海道", typed="さっぽろ", department="市民課")
        ws.me = ws.organizer
        await ws.click_action(approval_ids.APPROVE)

    await quietly(ws, yamada_joins)
    ws.me = tanaka


async def community(ws: LocalWorkspace, member: str) -> None:
    """Sections (課), statistics and the App Home, right after approval."""
    deps = ws.yakuba.deps
    await import_sections(db=deps.db, team_id=deps.team_id, path=SECTIONS)
    channel = ws.slack.add_channel("ka-bousai")["id"]
    async with deps.db.write() as session:
        bousai = await session.scalar(select(Section).where(Section.team_id == deps.team_id, Section.name == "防災課"))
        bousai.channel_id = channel
    ws.me = member
    ws.narrate("demo.membership.sections")
    await ws.command("/ka", "list")
    await ws.command("/ka", "join ぼうさい")
    ws.narrate("demo.membership.stats")
    await ws.command("/members", "stats")
    ws.narrate("demo.membership.home")
    await ws.event(req.app_home_opened_event(member))


def _user(ws: LocalWorkspace, real_name: str) -> str:
    return next(u["id"] for u in ws.slack.ws.users.values() if u.get("real_name") == real_name)


async def journey_move(ws: LocalWorkspace, story: StoryClock) -> None:
    """Transfer (人事異動), leaving (kept, marked left), then APPI: export and erase on request."""
    tanaka, yamada = _user(ws, "田中 一郎"), _user(ws, "山田 さくら")
    story.at(datetime(2027, 4, 1, 9, 30, tzinfo=JST))
    ws.me = tanaka
    ws.narrate("demo.membership.transfer", name="田中 一郎")
    await ws.command("/register")
    await register(ws, name="田中 一郎", pref="27", pref_name="大阪府", typed="大阪市北", department="DX推進室")
    await ws.submit({})

    story.at(datetime(2027, 4, 30, 17, 45, tzinfo=JST))
    ws.narrate("demo.membership.leave", name="山田 さくら")
    ws.slack.set_deleted(yamada)
    await ws.event({"type": "user_change", "user": {**ws.slack.user(yamada), "deleted": True}})
    ws.narrate("demo.membership.left_member")
    story.at(datetime(2027, 5, 6, 10, 0, tzinfo=JST))
    ws.narrate("demo.membership.left_organisers", name="山田 さくら")
    ws.me = ws.organizer
    await ws.command("/members", "export")
    ws.narrate("demo.membership.left")

    story.at(datetime(2027, 5, 10, 20, 0, tzinfo=JST))
    ws.narrate("demo.membership.mydata", name="田中 一郎")
    ws.me = tanaka
    await ws.command("/mydata", "export")
    ws.narrate("demo.membership.forget", name="田中 一郎")
    await ws.command("/mydata", "forget")
    ws.narrate("demo.membership.forget_press")
    await press_confirmed(ws, privacy_ids.FORGET_CONFIRM)

    story.at(datetime(2027, 5, 11, 9, 0, tzinfo=JST))
    ws.narrate("demo.membership.forgotten")
    ws.me = ws.organizer
    await ws.command("/members", "stats")
    await ws.command("/members", "export")
