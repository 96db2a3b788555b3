"""`yakuba console`: a local shell where you are a member of a local workspace. Modals become prompts."""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.local import render
from bot.local import requests as req
from bot.local.workspace import LocalWorkspace
from schedules.scheduler import Scheduler

PROMPT = "yakuba> "
LOG_FILE = "yakuba-console.log"
ORGANIZER_ALIASES = ("organiser", "organizer", "運営")
YES = ("y", "yes", "はい", "1")


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


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def pick(options: list[dict], answer: str) -> dict | None:
    """The option a typed answer means: its number, its label or value, or the one label containing it."""
    answer = answer.strip()
    if not answer:
        return None
    if answer.isdigit():
        return options[int(answer) - 1] if 1 <= int(answer) <= len(options) else None
    wanted = _fold(answer)
    for option in options:
        if wanted in (_fold(_label(option)), _fold(str(option.get("value", "")))):
            return option
    partial = [option for option in options if wanted in _fold(_label(option))]
    return partial[0] if len(partial) == 1 else None


async def _choose(ws: LocalWorkspace, options: list[dict], *, many: bool) -> list[dict] | None:
    """Numbered choices; the answer may be numbers or labels (several, comma-separated, when `many`)."""
    for i, option in enumerate(options, 1):
        ws.printer(f"    {i}. {_label(option)}")
    while True:
        line = await ask("    #> ")
        if line is None:
            return None
        parts = line.replace("、", ",").split(",") if many else [line]
        parts = [part for part in parts if part.strip()]
        picked = [pick(options, part) for part in parts]
        unknown = [part.strip() for part, option in zip(parts, picked, strict=True) if option is None]
        if not unknown:
            return [option for option in picked if option is not None]
        ws.printer(f"    {ws.texts('console.unknown_choice', answer=unknown[0])}")


async def fill_input(
    ws: LocalWorkspace, block: dict[str, Any], values: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any] | None:
    """Prompt for one input block; returns its Slack state value, or None when left empty.

    `values` is the form filled so far: an external_select's options request carries it, as in Slack.
    """
    element = block.get("element") or {}
    kind = element.get("type", "plain_text_input")
    label = render.mrkdwn(str((block.get("label") or {}).get("text", "")))
    optional = ws.texts("console.optional") if block.get("optional") else ""
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
        found = await ws.suggest(element["action_id"], typed, values=values or {}, block_id=block.get("block_id"))
        picked = await _choose(ws, found, many=False)
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


def find_user(ws: LocalWorkspace, name: str) -> str | None:
    """A person of the workspace by id, user name or real name (None when there is nobody of that name)."""
    name = name.strip().lstrip("@")
    for user in ws.slack.ws.users.values():
        if name and name in (user["id"], user["name"], user.get("real_name")):
            return user["id"]
    return None


def _user_id(ws: LocalWorkspace, name: str) -> str:
    return find_user(ws, name) or name.strip().lstrip("@")


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
        index = 0
        while index < len(view.get("blocks", [])):
            block, index = view["blocks"][index], index + 1
            if block.get("type") != "input" or (only is not None and block.get("block_id") not in only):
                continue
            element = block.get("element") or {}
            value = await fill_input(ws, block, values)
            values.pop(block["block_id"], None)
            if value is not None:
                values[block["block_id"]] = {element.get("action_id", "value"): value}
                if block.get("dispatch_action"):  # Slack tells the app at once; the form may change below
                    view = await ws.act_in_view(block, value, values) or view
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


def _help(ws: LocalWorkspace) -> str:
    return "\n".join(f"  {line}" for line in ws.texts("console.help").splitlines())


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
            ws.printer(_help(ws))
        elif verb == "join":
            name = rest[0] if rest else f"member{len(ws.slack.ws.users)}"
            await ws.join(name, " ".join(rest[1:]) or name)
        elif verb == "as":
            target = " ".join(rest)
            found = ws.organizer if target.lower() in ORGANIZER_ALIASES else find_user(ws, target)
            if found is None:
                ws.printer(f"  {ws.texts('console.unknown_user', name=target)}")
            else:
                ws.me = found
                ws.printer(f"  {ws.texts('console.you_are', name=ws.name(ws.me))}")
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
            ws.printer(f"  {ws.texts('console.unknown_verb')}")
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


def log_path(database_url: str) -> Path:
    """The console's log file: beside the SQLite database (else in the working directory)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / LOG_FILE
    return Path(LOG_FILE)


def log_to_file(path: Path) -> None:
    """Every log line (and Python warning) goes to the file, so none interleaves with the conversation."""
    handler = logging.FileHandler(path, encoding="utf-8")
    logging.basicConfig(
        level=logging.INFO, handlers=[handler], force=True, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.captureWarnings(True)


async def offer_examples(ws: LocalWorkspace) -> None:
    """A first start on this database: load the example programmes, sections and FAQs in one step."""
    answer = await ask(ws.texts("console.examples.offer"))
    if (answer or "").strip().lower() not in YES:
        ws.printer(f"  {ws.texts('console.examples.skipped')}")
        return
    counts, refused = await ws.load_examples()
    ws.printer(f"  {ws.texts('console.examples.loaded', **counts)}")
    if refused:
        ws.printer(f"  {ws.texts('console.examples.problems', count=refused)}")


async def run(settings: Settings, *, lang: str | None = None) -> None:
    path = log_path(settings.database_url)
    log_to_file(path)
    ws = await LocalWorkspace.start(settings, lang=lang, persist=True)
    try:
        ws.printer(ws.texts("console.banner"))
        ws.printer(ws.texts("console.log_file", path=str(path)))
        if ws.restored:
            people = [u for u in ws.slack.ws.users.values() if not u["is_bot"] and u["id"] != "USLACKBOT"]
            channels = [c for c in ws.slack.ws.channels.values() if not c["is_im"]]
            ws.printer(ws.texts("console.restored", people=len(people), channels=len(channels)))
        ws.printer(_help(ws))
        if not ws.restored:
            await offer_examples(ws)
        while (line := await ask(PROMPT)) is not None:
            try:
                if not await handle(ws, line):
                    break
            except Exception as exc:  # the shell survives a failing step: said here, traceback in the log
                logging.getLogger(__name__).exception("console step failed")
                ws.printer(f"  ! {type(exc).__name__}: {exc}")
    finally:
        await ws.close()
