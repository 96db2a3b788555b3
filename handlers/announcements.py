"""/announce: a form or a quick line → an ephemeral preview → Send (or Cancel); status and cancel later.

Every listener that acts checks the sender's role again: buttons and payloads can be forged.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.blocks import announcements as ui
from bot.blocks.common import notice, row_id
from bot.blocks.help import usage_message
from bot.services.announcements import Role, TargetError, Targets, check_text, parse_quick, resolve, role_of
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.slash import SlashCommand
from storage import announcements as store
from storage.announcements import DUPLICATE_WINDOW

# /announce: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("announce", opens_form=frozenset({""}), staff=("",))  # organisers and leads

log = logging.getLogger(__name__)


def _team(deps: Deps, context) -> str:
    return context.team_id or deps.team_id


def _error(deps: Deps, exc: TargetError) -> dict:
    if exc.key == "announcements.errors.usage":
        return {**usage_message(deps.texts, "announce"), "text": deps.texts(exc.key)}
    return notice(deps.texts(exc.key, **exc.params))


async def on_announce(ack: AsyncAck, command: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(deps, context), command["user_id"]
    text = (command.get("text") or "").strip()
    role = await role_of(deps, team_id=team, user_id=user)
    if not role.may_announce:
        await ack(response_type="ephemeral", **notice(texts("announcements.refused")))
        return
    verb = text.split(maxsplit=1)[0].lower() if text else ""
    if not text:
        await ack()
        view = ui.form_view(
            texts, origin_channel=command.get("channel_id") or "", lead_only=None if role.organizer else role.lead_of
        )
        await deps.client.views_open(trigger_id=command["trigger_id"], view=view)
    elif verb == "status":
        await ack(response_type="ephemeral", **await _status(deps, team, user, role))
    elif verb in ("help", "usage"):
        await ack(response_type="ephemeral", **usage_message(texts, "announce"))
    elif verb == "cancel":
        await ack(response_type="ephemeral", **await _cancel(deps, team, user, role, text.split()[-1]))
    else:
        try:
            targets, message = parse_quick(text)
        except TargetError as exc:
            await ack(response_type="ephemeral", **_error(deps, exc))
            return
        if not role.allows(targets):
            await ack(response_type="ephemeral", **notice(texts("announcements.refused_targets")))
            return
        await ack()
        preview = await _draft(
            deps, team, user, targets, message, allow=False, send_at=None, origin=command.get("channel_id")
        )
        await respond(response_type="ephemeral", replace_original=False, **preview)


async def _draft(
    deps: Deps,
    team: str,
    user: str,
    targets: Targets,
    text: str,
    *,
    allow: bool,
    send_at: datetime | None,
    origin: str | None,
) -> dict:
    """Resolve, keep a draft, and return its preview (or the reason there is none)."""
    try:
        resolved = await resolve(deps, team_id=team, targets=targets)
    except TargetError as exc:
        return _error(deps, exc)
    draft = await store.create_draft(
        deps.db,
        team_id=team,
        user_id=user,
        text=text,
        allow_mentions=allow,
        targets=resolved.targets.as_dict(),
        total=len(resolved.recipients),
        send_at=send_at,
        origin_channel=origin,
    )
    return ui.preview_message(deps.texts, draft, tz=deps.settings.tz, count=len(resolved.recipients))


async def on_form(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(deps, context), body["user"]["id"]
    role = await role_of(deps, team_id=team, user_id=user)
    if not role.may_announce:
        await ack(response_action="errors", errors={"message": texts("announcements.refused")})
        return
    form, errors = _read_form(deps, view)
    if not errors and not role.allows(form["targets"]):
        errors["kind"] = texts("announcements.refused_targets")
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    origin = str(view.get("private_metadata") or "")[:32]
    preview = await _draft(
        deps,
        team,
        user,
        form["targets"],
        form["text"],
        allow=form["allow"],
        send_at=form["send_at"],
        origin=origin or None,
    )
    try:
        await deps.client.chat_postEphemeral(channel=origin, user=user, **preview)
    except SlackApiError:  # the form was opened somewhere the bot cannot whisper: the preview comes by DM
        await deps.client.chat_postMessage(channel=user, **preview)


def _read_form(deps: Deps, view: dict) -> tuple[dict, dict[str, str]]:
    texts, errors = deps.texts, {}
    values = ((view.get("state") or {}).get("values")) or {}

    def pick(block: str, action: str) -> dict:
        found = (values.get(block) or {}).get(action)
        return found if isinstance(found, dict) else {}

    form: dict = {
        "allow": any(
            isinstance(o, dict) and o.get("value") == "allow_mentions"
            for o in pick("options", "flags").get("selected_options") or []
        )
    }
    try:
        form["text"] = check_text(str(pick("message", "text").get("value") or ""))
    except TargetError as exc:
        errors["message"] = texts(exc.key, **exc.params)
    kind = str((pick("kind", "kind").get("selected_option") or {}).get("value") or "")
    codes = tuple(
        sorted(
            {str(o.get("value")) for o in pick("prefs", "codes").get("selected_options") or [] if isinstance(o, dict)}
        )
    )
    channels = tuple(sorted({str(c) for c in pick("channels", "ids").get("selected_conversations") or []}))
    if kind not in ui.KIND_ORDER:
        errors["kind"] = texts("announcements.errors.kind")
    elif kind == "prefs" and not codes:
        errors["prefs"] = texts("announcements.errors.prefs")
    elif kind == "channels" and not channels:
        errors["channels"] = texts("announcements.errors.channels")
    form["targets"] = Targets(
        kind, codes=codes if kind == "prefs" else (), channels=channels if kind == "channels" else ()
    )
    form["send_at"] = None
    if (pick("when", "mode").get("selected_option") or {}).get("value") == "later":
        day, time = pick("date", "date").get("selected_date"), pick("time", "time").get("selected_time")
        try:
            local = datetime.strptime(f"{day} {time}", "%Y-%m-%d %H:%M").replace(tzinfo=deps.settings.tz)
        except (TypeError, ValueError):
            errors["date"] = texts("announcements.errors.when")
        else:
            if local <= deps.clock():
                errors["time"] = texts("announcements.errors.past")
            form["send_at"] = local
    return form, errors


async def on_send(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(deps, context), body["user"]["id"]
    role = await role_of(deps, team_id=team, user_id=user)
    if not role.may_announce:
        await respond(replace_original=False, **notice(texts("announcements.refused")))
        return
    announcement_id = row_id(action.get("value"))
    draft = None if announcement_id is None else await store.get(deps.db, team_id=team, announcement_id=announcement_id)
    if draft is None or draft.created_by != user:  # someone else's draft is not theirs to send
        await respond(replace_original=False, **notice(texts("announcements.not_found")))
        return
    if draft.status != "draft":
        state = texts(f"announcements.state.{draft.status}")
        await respond(replace_original=False, **notice(texts("announcements.already", state=state)))
        return
    if not role.allows(Targets.of(draft.targets)):
        await respond(replace_original=False, **notice(texts("announcements.refused_targets")))
        return
    now = deps.clock()
    if action.get("action_id") == ui.SEND and await store.recent_duplicate(deps.db, draft=draft, now=now):
        minutes = int(DUPLICATE_WINDOW.total_seconds() // 60)
        await respond(replace_original=True, **ui.duplicate_message(texts, draft, minutes=minutes))
        return
    try:
        resolved = await resolve(deps, team_id=team, targets=Targets.of(draft.targets))
    except TargetError as exc:
        await respond(replace_original=False, **_error(deps, exc))
        return
    status = await store.confirm(deps.db, draft=draft, by=user, recipients=resolved.recipients, now=now)
    if status is None:
        await respond(
            replace_original=False,
            **notice(texts("announcements.already", state=texts("announcements.state.sending"))),
        )
        return
    count = len(resolved.recipients)
    if status == "sending":
        deps.announcer.kick()
        text = texts("announcements.started", count=count)
    else:
        text = texts(
            "announcements.scheduled",
            count=count,
            at=draft.send_at.astimezone(deps.settings.tz).strftime("%Y-%m-%d %H:%M"),
        )
    await respond(replace_original=True, **notice(text))


async def on_cancel(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    team, user = _team(deps, context), body["user"]["id"]
    role = await role_of(deps, team_id=team, user_id=user)
    reply = await _cancel(deps, team, user, role, action.get("value"))
    await respond(replace_original=False, **reply)


async def _cancel(deps: Deps, team: str, user: str, role: Role, value: object) -> dict:
    texts = deps.texts
    if not role.may_announce:
        return notice(texts("announcements.refused"))
    announcement_id = row_id(value)
    row = None if announcement_id is None else await store.get(deps.db, team_id=team, announcement_id=announcement_id)
    if row is None or not (role.organizer or row.created_by == user):
        return notice(texts("announcements.not_found"))
    stopped = await store.cancel(deps.db, team_id=team, announcement_id=row.id, by=user)
    if stopped is None:
        return notice(texts("announcements.already", state=texts(f"announcements.state.{row.status}")))
    return notice(texts("announcements.cancelled", id=row.id, count=stopped))


async def _status(deps: Deps, team: str, user: str, role: Role) -> dict:
    rows = await store.recent(deps.db, team_id=team, created_by=None if role.organizer else user)
    counts = await store.progress(deps.db, announcement_ids=[r.id for r in rows])
    return ui.status_message(deps.texts, [(r, counts[r.id]) for r in rows], tz=deps.settings.tz)


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_announce))
    app.view(ui.CALLBACK)(on_form)
    app.action(ui.SEND)(on_send)
    app.action(ui.SEND_AGAIN)(on_send)
    app.action(ui.CANCEL)(on_cancel)
