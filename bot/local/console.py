"""`yakuba console`: a local shell where you are a member of a local workspace. Modals become prompts."""

from __future__ import annotations

import asyncio
import shlex
import sys
from datetime import datetime
from typing import Any

from bot.config import Settings
from bot.local import requests as req
from bot.local.workspace import LocalWorkspace, render
from schedules.scheduler import Scheduler

PROMPT = "yakuba> "


async def ask(prompt: str) -> str | None:
    """One line from stdin (None at end of input), without blocking the event loop."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = await asyncio.to_thread(sys.stdin.readline)
    if not line:
        return None
    if not sys.stdin.isatty():
        sys.stdout.write(line if line.endswith("\n") else line + "\n")
    return line.rstrip("\n")


def _options(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options", [])
    return options


def _label(option: dict[str, Any]) -> str:
    return render.mrkdwn(str((option.get("text") or {}).get("text", option.get("value", ""))))


async def _choose(ws: LocalWorkspace, options: list[dict], *, many: bool) -> list[dict] | None:
    for i, option in enumerate(options, 1):
        ws.printer(f"    {i}. {_label(option)}")
    line = await ask("    #> ")
    if line is None:
        return None
    picked = []
    for part in line.replace("、", ",").split(","):
        if part.strip().isdigit() and 1 <= int(part) <= len(options):
            picked.append(options[int(part) - 1])
    return picked if many else picked[:1]


async def fill_input(ws: LocalWorkspace, block: dict[str, Any]) -> dict[str, Any] | None:
    """Prompt for one input block; returns its Slack state value, or None when left empty."""
    element = block.get("element") or {}
    kind = element.get("type", "plain_text_input")
    label = render.mrkdwn(str((block.get("label") or {}).get("text", "")))
    optional = " (任意)" if block.get("optional") else ""
    ws.printer(f"  ✎ {label}{optional}")
    if kind in ("static_select", "radio_buttons", "multi_static_select", "checkboxes"):
        many = kind in ("multi_static_select", "checkboxes")
        picked = await _choose(ws, _options(element), many=many)
        if not picked:
            return None
        return {"type": kind, "selected_options": picked} if many else {"type": kind, "selected_option": picked[0]}
    if kind == "external_select":
        typed = await ask("    search> ")
        if not typed:
            return None
        picked = await _choose(ws, await ws.suggest(element["action_id"], typed), many=False)
        return {"type": kind, "selected_option": picked[0]} if picked else None
    line = await ask("    > ")
    if not line:
        return None
    if kind == "datepicker":
        return {"type": kind, "selected_date": line}
    if kind == "timepicker":
        return {"type": kind, "selected_time": line}
    if kind in ("users_select", "multi_users_select"):
        ids = [_user_id(ws, name) for name in line.split(",")]
        return (
            {"type": kind, "selected_user": ids[0]} if kind == "users_select" else {"type": kind, "selected_users": ids}
        )
    return {"type": kind, "value": line}


def _user_id(ws: LocalWorkspace, name: str) -> str:
    name = name.strip().lstrip("@")
    for user in ws.slack.ws.users.values():
        if name in (user["id"], user["name"], user.get("real_name")):
            return user["id"]
    return name


async def fill_modal(ws: LocalWorkspace) -> None:
    """Walk the open modal's inputs as prompts and submit; inline errors re-ask just those fields."""
    only: set[str] | None = None
    values: dict[str, dict[str, Any]] = {}
    while (view := ws.views.get(ws.me)) is not None:
        if not view.get("submit"):  # a view with nothing to submit is only read, then closed
            ws.views.pop(ws.me, None)
            return
        if not any(block.get("type") == "input" for block in view.get("blocks", [])):
            submit = render.mrkdwn(str(view["submit"].get("text", "")))
            if ((await ask(f"  [{submit}] y/n> ")) or "").strip().lower() not in ("y", "yes", "はい"):
                ws.views.pop(ws.me, None)
                return
        for block in view.get("blocks", []):
            if block.get("type") != "input" or (only is not None and block.get("block_id") not in only):
                continue
            element = block.get("element") or {}
            value = await fill_input(ws, block)
            values.pop(block["block_id"], None)
            if value is not None:
                values[block["block_id"]] = {element.get("action_id", "value"): value}
        body = req.view_submission_body(user_id=ws.me, view=view, values=values)
        answer = await ws.dispatch(body)
        if answer and answer.get("response_action") == "errors":
            for error in answer.get("errors", {}).values():
                ws.printer(f"  ⚠ {error}")
            only = set(answer.get("errors", {}))
            continue
        ws.after_submit(answer)
        if (answer or {}).get("response_action") in ("push", "update"):
            only = None
            values = {}


HELP = """  /COMMAND [text]   a slash command, e.g. /faq ワクチン 保管 or /register
  join NAME [REAL NAME]   a new member joins the workspace; you become them
  as organiser | as NAME  act as the organiser or as a member
  click N           press button or menu N shown above
  say TEXT          post in #general (write @yakuba to mention the bot)
  dm TEXT           a direct message to the bot
  home              open yakuba's App Home
  run JOB [ISO-TIME]  run a scheduled job for a moment, as the scheduler would
  who               the people in this workspace
  help | quit"""


async def handle(ws: LocalWorkspace, line: str) -> bool:
    """Run one console line; False means quit."""
    line = line.strip()
    if not line:
        return True
    if line.startswith("/"):
        command, _, text = line.partition(" ")
        await ws.command(command, text.strip())
    else:
        try:
            words = shlex.split(line)
        except ValueError:
            words = line.split()
        verb, rest = words[0].lower(), words[1:]
        text = line[len(words[0]) :].strip()
        if verb in ("quit", "exit", "q"):
            return False
        if verb == "help":
            ws.printer(HELP)
        elif verb == "join":
            name = rest[0] if rest else f"member{len(ws.slack.ws.users)}"
            await ws.join(name, " ".join(rest[1:]) or name)
        elif verb == "as":
            target = " ".join(rest)
            ws.me = ws.organizer if target in ("organiser", "organizer", "運営") else _user_id(ws, target)
            ws.printer(f"  (you are @{ws.name(ws.me)})")
        elif verb == "click" and rest and rest[0].isdigit():
            number = int(rest[0])
            clickable = ws.clickables[number - 1] if 0 < number <= len(ws.clickables) else None
            option = None
            if clickable is not None and clickable.element.get("type", "button") != "button":
                picked = await _choose(ws, _options(clickable.element), many=False)
                option = picked[0] if picked else None
            await ws.click(number, option=option)
        elif verb == "say":
            text = text.replace("@yakuba", f"<@{req.BOT_USER_ID}>")
            kind = "app_mention" if f"<@{req.BOT_USER_ID}>" in text else "message"
            await ws.event({**req.message_event(ws.me, ws.general, text), "type": kind})
        elif verb == "dm":
            await ws.event(req.message_event(ws.me, ws.slack.dm_channel(ws.me), text, channel_type="im"))
        elif verb == "home":
            await ws.event(req.app_home_opened_event(ws.me))
        elif verb == "run" and rest:
            await run_job(ws, rest[0], rest[1] if len(rest) > 1 else None)
        elif verb == "who":
            for user in ws.slack.ws.users.values():
                ws.printer(f"  @{user.get('real_name') or user['name']} ({user['id']})")
        else:
            ws.printer("  ? help")
    if ws.views.get(ws.me) is not None:
        await fill_modal(ws)
    return True


async def run_job(ws: LocalWorkspace, name: str, at: str | None) -> None:
    scheduler = Scheduler(ws.yakuba.deps)
    job = scheduler.jobs.get(name)
    if job is None:
        ws.printer(f"  jobs: {', '.join(scheduler.jobs)}")
        return
    moment = datetime.fromisoformat(at) if at else ws.yakuba.deps.clock()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ws.yakuba.settings.tz)
    for slot, outcome in await scheduler.tick(job, moment):
        ws.printer(f"  {name} {slot.astimezone(ws.yakuba.settings.tz):%Y-%m-%d %H:%M} → {outcome}")
    await ws.yakuba.deps.drain()
    ws.show()


async def run(settings: Settings, *, lang: str | None = None) -> None:
    ws = await LocalWorkspace.start(settings, lang=lang)
    try:
        ws.printer(ws.texts("console.banner"))
        ws.printer(HELP)
        while (line := await ask(PROMPT)) is not None:
            try:
                if not await handle(ws, line):
                    break
            except Exception as exc:  # noqa: BLE001 - the shell survives a failing step and says so
                ws.printer(f"  ! {type(exc).__name__}: {exc}")
    finally:
        await ws.close()
