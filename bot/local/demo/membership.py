"""Demo journeys 1 and 5: register → approve → 県人会; a reject; a transfer (人事異動) and leaving."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.blocks import approvals as approval_ids
from bot.blocks import registration as ids
from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.local import requests as req
from bot.local.workspace import LocalWorkspace
from bot.services.prefectures import setup_prefectures
from storage.models import Section
from storage.section_io import import_sections

SECTIONS = Path(__file__).resolve().parents[3] / "storage" / "data" / "sections.example.yaml"


def _select(option: dict) -> dict:
    return {"type": "static_select", "selected_option": option}


async def register(ws: LocalWorkspace, *, name: str, pref: str, pref_name: str, typed: str, department: str) -> None:
    """Fill the registration modal that is open for the current user, typing `typed` into the municipality box."""
    options = await ws.suggest(ids.MUNI, typed)
    ws.narrate("demo.membership.typed", typed=typed, found=" / ".join(o["text"]["text"] for o in options[:3]))
    await ws.submit(
        {
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
    )


async def journey_join(ws: LocalWorkspace) -> None:
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
    await register(ws, name="田中 一郎", pref="13", pref_name="東京都", typed="しぶや", department="デジタル推進課")
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


async def journey_move(ws: LocalWorkspace) -> None:
    tanaka = next(u["id"] for u in ws.slack.ws.users.values() if u["name"] == "tanaka")
    ws.me = tanaka
    ws.narrate("demo.membership.transfer", name="田中 一郎")
    await ws.command("/register")
    await register(ws, name="田中 一郎", pref="27", pref_name="大阪府", typed="大阪市北", department="DX推進室")
    await ws.submit({})
    ws.narrate("demo.membership.leave", name="鈴木 次郎")
    suzuki = next(u for u in ws.slack.ws.users.values() if u["name"] == "suzuki")
    ws.slack.set_deleted(suzuki["id"])
    await ws.event({"type": "user_change", "user": {**ws.slack.user(suzuki["id"]), "deleted": True}})
    ws.narrate("demo.membership.left")
    ws.me = ws.organizer
    await ws.command("/approvals")
    ws.narrate("demo.membership.mydata", name="田中 一郎")
    ws.me = tanaka
    await ws.command("/mydata", "export")
