"""/programs: the 庁内放送 schedule, subscriptions, and the organisers' add / edit / pause / resume."""

from __future__ import annotations

import difflib
import logging
from datetime import date, timedelta

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.common import esc, notice, row_id, safe
from bot.blocks.help import usage_message
from bot.blocks.programs import SUBSCRIBE, lineup_message, week_message
from bot.blocks.programs_form import CALLBACK, done_view, entry_from_state, form_errors, program_modal
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.permissions import is_organizer
from bot.slack.slash import SlashCommand
from bot.slack.users import user_checker
from storage import programs as repo
from storage.program_checks import validate_program
from storage.recurrence import holiday_name, occurrences

# /programs: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand(
    "programs",
    opens_form=frozenset({"add", "edit"}),
    organisers=dict.fromkeys(("add", "edit", "pause", "resume"), "programs.admin.not_allowed"),
    feature="programs",
    staff=("",),
    built_in_words=True,  # the built-in summary names the town hall broadcast
)

log = logging.getLogger(__name__)
MEMBER_VERBS = ("today", "week", "subscribe", "unsubscribe")


def _today(deps: Deps) -> date:
    return deps.clock().astimezone(deps.settings.tz).date()


async def day_message(deps: Deps, team: str, day: date) -> dict:
    settings = deps.settings
    found = await repo.lineup(db=deps.db, team_id=team, day=day, tz=settings.tz)
    return lineup_message(
        deps.texts,
        day,
        found,
        minutes=settings.yakuba_reminder_minutes,
        broadcast=settings.yakuba_broadcast_channel,
        holiday=holiday_name(day),
    )


async def week(deps: Deps, team: str) -> dict:
    first = _today(deps)
    days = []
    for offset in range(7):
        day = first + timedelta(days=offset)
        days.append((day, await repo.lineup(db=deps.db, team_id=team, day=day, tz=deps.settings.tz)))
    return week_message(
        deps.texts,
        days,
        minutes=deps.settings.yakuba_reminder_minutes,
        broadcast=deps.settings.yakuba_broadcast_channel,
    )


async def find_one(deps: Deps, team: str, query: str, verb: str) -> tuple[repo.StoredProgram | None, str]:
    """The programme `query` names, or None and a kind explanation (candidates or the closest names)."""
    texts = deps.texts
    if not query:
        return None, texts("programs.find.missing_name", verb=verb)
    found = await repo.find_programs(db=deps.db, team_id=team, query=query)
    if len(found) == 1:
        return found[0], ""
    if found:
        names = safe(", ".join(f"`{esc(p.name)}`（{esc(p.title)}）" for p in found[:10]))
        return None, texts("programs.find.ambiguous", query=query, names=names)
    every = await repo.list_programs(db=deps.db, team_id=team, active_only=False)
    labels = {repo.fold(p.name): p for p in every} | {repo.fold(p.title): p for p in every}
    close = difflib.get_close_matches(repo.fold(query), list(labels), n=3, cutoff=0.3)
    unique = list(dict.fromkeys(labels[c].name for c in close))
    lines = [texts("programs.find.unknown", query=query)]
    if unique:
        lines.append(texts("programs.find.closest", names=safe(", ".join(f"`{esc(n)}`" for n in unique))))
    lines.append(texts("programs.find.see_week"))
    return None, "\n".join(lines)


async def subscription(deps: Deps, team: str, user: str, verb: str, query: str) -> dict:
    program, why = await find_one(deps, team, query, verb)
    if program is None:
        return notice(why)
    texts, title = deps.texts, program.title
    if verb == "subscribe":
        new = await repo.subscribe(db=deps.db, team_id=team, program_id=program.id, user_id=user)
        minutes = deps.settings.yakuba_reminder_minutes
        return notice(
            texts("programs.subscribe.done", title=title, minutes=minutes)
            if new
            else texts("programs.subscribe.already", title=title)
        )
    removed = await repo.unsubscribe(db=deps.db, team_id=team, program_id=program.id, user_id=user)
    return notice(texts("programs.subscribe.removed" if removed else "programs.subscribe.not_subscribed", title=title))


async def pause_or_resume(deps: Deps, team: str, verb: str, query: str) -> dict:
    program, why = await find_one(deps, team, query, verb)
    if program is None:
        return notice(why)
    texts, title = deps.texts, program.title
    active = verb == "resume"
    if program.active == active:
        return notice(
            texts("programs.admin.already_active" if active else "programs.admin.already_paused", title=title)
        )
    await repo.set_active(db=deps.db, team_id=team, program_id=program.id, active=active)
    return notice(texts(f"programs.admin.{verb}d", title=title, name=program.name))


async def on_programs(ack: AsyncAck, command: dict, context: AsyncBoltContext, client: AsyncWebClient) -> None:
    deps = deps_of(context)
    team, user = context.team_id or deps.team_id, command.get("user_id", "")
    words = (command.get("text") or "").split(maxsplit=1)
    verb = words[0].lower() if words else "today"
    rest = words[1].strip() if len(words) > 1 else ""
    if (verb not in MEMBER_VERBS and verb not in COMMAND.organisers) or (verb in ("today", "week", "add") and rest):
        await ack(response_type="ephemeral", **usage_message(deps.texts, "programs", deps.usage_keys("programs")))
        return
    if (refusal := COMMAND.refusal_for(verb)) and not await is_organizer(deps, user):
        await ack(response_type="ephemeral", **notice(deps.texts(refusal)))
        return
    if verb == "today":
        await ack(response_type="ephemeral", **await day_message(deps, team, _today(deps)))
    elif verb == "week":
        await ack(response_type="ephemeral", **await week(deps, team))
    elif verb in ("subscribe", "unsubscribe"):
        await ack(response_type="ephemeral", **await subscription(deps, team, user, verb, rest))
    elif verb in ("pause", "resume"):
        await ack(response_type="ephemeral", **await pause_or_resume(deps, team, verb, rest))
    else:
        program = None
        if verb == "edit":
            program, why = await find_one(deps, team, rest, verb)
            if program is None:
                await ack(response_type="ephemeral", **notice(why))
                return
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view=program_modal(deps.texts, program))


async def on_subscribe_click(
    ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    deps = deps_of(context)
    team, user = context.team_id or deps.team_id, (body.get("user") or {}).get("id", "")
    program = None
    if (program_id := row_id(action.get("value"))) is not None:
        program = await repo.get_program_by_id(db=deps.db, team_id=team, program_id=program_id)
    if program is None:
        answer = notice(deps.texts("programs.subscribe.gone"))
    else:
        new = await repo.subscribe(db=deps.db, team_id=team, program_id=program.id, user_id=user)
        key = "programs.subscribe.done" if new else "programs.subscribe.already"
        answer = notice(deps.texts(key, title=program.title, minutes=deps.settings.yakuba_reminder_minutes))
    await respond(response_type="ephemeral", replace_original=False, **answer)


async def _name_taken(deps: Deps, team: str, name: str) -> bool:
    """Adding must not silently overwrite another programme: names are unique (imports upsert by them)."""
    every = await repo.list_programs(db=deps.db, team_id=team, active_only=False)
    return any(repo.name_key(p.name) == repo.name_key(name) for p in every)


async def on_save(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team, user = deps.texts, context.team_id or deps.team_id, (body.get("user") or {}).get("id", "")
    # Checked again here: the modal may have been opened by someone who has since lost the right.
    if not await is_organizer(deps, user):
        await ack(response_action="errors", errors={"title": texts("programs.admin.not_allowed")})
        return
    program = None
    meta = str(view.get("private_metadata") or "")
    if meta:
        program_id = row_id(meta)
        program = await repo.get_program_by_id(db=deps.db, team_id=team, program_id=program_id) if program_id else None
        if program is None:
            await ack(response_action="errors", errors={"title": texts("programs.subscribe.gone")})
            return
    data = entry_from_state((view.get("state") or {}).get("values") or {}, program=program)
    spec, problems = await validate_program(data, user_exists=user_checker(deps.client))
    if spec is None or problems:
        await ack(response_action="errors", errors=form_errors(texts, problems, view))
        return
    if program is None and await _name_taken(deps, team, spec.name):
        block = "name" if data.get("name") else "title"
        await ack(response_action="errors", errors={block: texts("programs.form.name_taken", name=spec.name)})
        return
    result = await repo.upsert_program(db=deps.db, team_id=team, spec=spec)
    now = deps.clock()
    upcoming = occurrences(result.program, now, now + timedelta(days=400), deps.settings.tz)[:1]
    when = upcoming[0].local_start.strftime("%Y-%m-%d %H:%M") if upcoming else texts("programs.form.no_next")
    outcome = texts(f"programs.form.outcome.{result.outcome}")
    text = texts("programs.form.saved", title=result.program.title, outcome=outcome, next=when)
    await ack(response_action="update", view=done_view(texts, text))


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_programs))
    app.action(SUBSCRIBE)(on_subscribe_click)
    app.view(CALLBACK)(on_save)
