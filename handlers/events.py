"""/events: what is coming for this member, 参加する / キャンセル, calendars, the survey, organisers' add / edit."""

from __future__ import annotations

from dataclasses import replace

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import events as blocks
from bot.blocks.common import notice, row_id
from bot.blocks.help import usage_message
from bot.services import events as service
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.slash import SlashCommand
from storage import event_io, sections
from storage import events as store
from storage.models import Event
from storage.recurrence import Recurrence

# /events: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py). add / edit are
# for organisers and prefecture leads (their own 県人会 only): checked by the handler that saves, not here.
COMMAND = SlashCommand(
    "events",
    opens_form=frozenset({"add", "edit"}),
    organisers=dict.fromkeys(("results", "publish"), "events.admin.not_allowed"),
)
VERBS = ("", "list", "mine", "add", "edit", "results", "publish")


def _team(body: dict, context: AsyncBoltContext, fallback: str) -> str:
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    return context.team_id or team.get("id") or fallback


async def listing(deps: Deps, team: str, user: str) -> dict:
    now = deps.clock()
    wanted = await service.audiences(deps, team_id=team, user_id=user)
    mine = {event.id: status for event, status in await store.of_member(deps.db, team_id=team, user_id=user)}
    items = []
    for event in await store.upcoming(deps.db, team_id=team, now=now, audiences=wanted):
        items.append((event, await store.counts(deps.db, event_id=event.id), mine.get(event.id)))
    return blocks.list_message(deps.texts, items, tz=deps.settings.tz, now=now)


async def mine(deps: Deps, team: str, user: str) -> dict:
    items = []
    for event, status in await store.of_member(deps.db, team_id=team, user_id=user, after=deps.clock()):
        place = await store.place_in_line(deps.db, event_id=event.id, user_id=user) if status == "wait" else None
        items.append((event, status, place))
    return blocks.mine_message(deps.texts, items, tz=deps.settings.tz)


async def results(deps: Deps, team: str, key: str) -> dict:
    event = await store.by_key(deps.db, team_id=team, key=key) if key else None
    if event is None:
        return notice(deps.texts("events.results.not_found", key=key))
    found = await service.results(deps, event=event)
    return blocks.results_message(
        deps.texts, event, scores=found.scores, seats=found.seats, missed=found.missed, topics=found.topics
    )


async def on_events(ack: AsyncAck, command: dict, context: AsyncBoltContext, client: AsyncWebClient) -> None:
    deps = deps_of(context)
    team, user = context.team_id or deps.team_id, command.get("user_id", "")
    words = (command.get("text") or "").split(maxsplit=1)
    verb = words[0].lower() if words else ""
    rest = words[1].strip() if len(words) > 1 else ""
    if verb not in VERBS or (verb in ("", "list", "mine", "add") and rest):
        await ack(response_type="ephemeral", **usage_message(deps.texts, "events"))
        return
    if verb in ("", "list"):
        await ack(response_type="ephemeral", **await listing(deps, team, user))
    elif verb == "mine":
        await ack(response_type="ephemeral", **await mine(deps, team, user))
    elif verb == "results":
        await ack(response_type="ephemeral", **await results(deps, team, rest))
    elif verb == "publish":
        event = await store.by_key(deps.db, team_id=team, key=rest) if rest else None
        if event is None:
            await ack(response_type="ephemeral", **notice(deps.texts("events.admin.not_found", key=rest)))
            return
        await service.publish(deps, event)
        await ack(response_type="ephemeral", **notice(deps.texts("events.admin.published", title=event.title)))
    else:
        event = None
        if verb == "edit":
            event = await store.by_key(deps.db, team_id=team, key=rest) if rest else None
            if event is None:
                key = "events.admin.not_found" if rest else "events.admin.missing_key"
                await ack(response_type="ephemeral", **notice(deps.texts(key, key=rest)))
                return
        audience = event.audience if event is not None else None
        if not await service.may_manage(deps, team_id=team, user_id=user, audience=audience):
            await ack(response_type="ephemeral", **notice(deps.texts("events.form.not_allowed")))
            return
        await ack()
        await client.views_open(
            trigger_id=command["trigger_id"], view=blocks.event_modal(deps.texts, event, tz=deps.settings.tz)
        )


async def _event_of(deps: Deps, team: str, action: dict) -> Event | None:
    value = str(action.get("value") or "").split(":")[0]
    event_id = row_id(value)
    return await store.get(deps.db, team_id=team, event_id=event_id) if event_id is not None else None


async def _say(respond: AsyncRespond, text: str) -> None:
    await respond(replace_original=False, response_type="ephemeral", **notice(text))


async def _clicked(
    ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond
) -> tuple[Deps, str, str, int] | None:
    """A 参加する / キャンセル click: (deps, team, user, event id) once acked, or None after answering "gone"."""
    await ack()
    deps = deps_of(context)
    event_id = row_id(action.get("value"))
    if event_id is None:
        await _say(respond, deps.texts("events.signup.gone"))
        return None
    return deps, _team(body, context, deps.team_id), body["user"]["id"], event_id


async def on_join(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    if (clicked := await _clicked(ack, body, action, context, respond)) is None:
        return
    deps, team, user, event_id = clicked
    result = await service.sign_up(deps, team_id=team, event_id=event_id, user_id=user)
    title = result.event.title if result.event is not None else ""
    await _say(respond, deps.texts(f"events.signup.{result.outcome}", title=title, place=result.place or 0))


async def on_cancel(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    if (clicked := await _clicked(ack, body, action, context, respond)) is None:
        return
    deps, team, user, event_id = clicked
    result = await service.cancel(deps, team_id=team, event_id=event_id, user_id=user)
    title = result.event.title if result.event is not None else ""
    key = {"cancelled": "cancelled", "not_signed": "not_signed"}.get(result.outcome, "gone")
    await _say(respond, deps.texts(f"events.signup.{key}", title=title))


async def on_ics(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    team, user = _team(body, context, deps.team_id), body["user"]["id"]
    event = await _event_of(deps, team, action)
    if event is None:
        await _say(respond, deps.texts("events.signup.gone"))
        return
    comment = deps.texts.plain("events.mine.ics_one", title=event.title)
    await service.send_calendar(deps, user_id=user, rows=[event], title=event.title, comment=comment)
    await _say(respond, deps.texts("events.mine.ics_sent"))


async def on_mine_ics(ack: AsyncAck, body: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    team, user = _team(body, context, deps.team_id), body["user"]["id"]
    rows = [event for event, _ in await store.of_member(deps.db, team_id=team, user_id=user)]
    title = deps.texts.plain("events.mine.ics_title")
    comment = deps.texts.plain("events.mine.ics_comment")
    await service.send_calendar(deps, user_id=user, rows=rows, title=title, comment=comment)
    await _say(respond, deps.texts("events.mine.ics_sent"))


async def on_rate(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    team, user = _team(body, context, deps.team_id), body["user"]["id"]
    event = await _event_of(deps, team, action)
    score = str(action.get("value") or "").rpartition(":")[2]
    if event is None or score not in ("1", "2", "3", "4", "5"):
        await _say(respond, deps.texts("events.signup.gone"))
        return
    done = await store.answer_survey(
        deps.db, team_id=team, event_id=event.id, user_id=user, now=deps.clock(), satisfaction=int(score)
    )
    await _say(respond, deps.texts("events.survey.thanks_rate" if done else "events.survey.not_signed", score=score))


async def on_missed(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    team, user = _team(body, context, deps.team_id), body["user"]["id"]
    event = await _event_of(deps, team, action)
    if event is None:
        await _say(respond, deps.texts("events.signup.gone"))
        return
    done = await store.answer_survey(
        deps.db, team_id=team, event_id=event.id, user_id=user, now=deps.clock(), attended=False
    )
    await _say(respond, deps.texts("events.survey.thanks_missed" if done else "events.survey.not_signed"))


async def on_topic(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, client: AsyncWebClient) -> None:
    await ack()
    deps = deps_of(context)
    event = await _event_of(deps, _team(body, context, deps.team_id), action)
    if event is not None:
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.topic_modal(deps.texts, event))


async def on_topic_submit(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    team, user = _team(body, context, deps.team_id), body["user"]["id"]
    values = (view.get("state") or {}).get("values") or {}
    topic = str(((values.get("topic") or {}).get(blocks.FIELD) or {}).get("value") or "").strip()[:500]
    share = bool(((values.get("share") or {}).get(blocks.FIELD) or {}).get("selected_options"))
    event_id = row_id(view.get("private_metadata"))
    done = event_id is not None and await store.answer_survey(
        deps.db, team_id=team, event_id=event_id, user_id=user, now=deps.clock(), topic=topic, share_name=share
    )
    if not done:
        await ack(response_action="errors", errors={"topic": deps.texts.plain("events.survey.not_signed")})
        return
    await ack()


async def on_form_submit(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(body, context, deps.team_id), body["user"]["id"]
    event = None
    if view.get("private_metadata"):
        event_id = row_id(view.get("private_metadata"))
        event = await store.get(deps.db, team_id=team, event_id=event_id) if event_id is not None else None
        if event is None:
            await ack(response_action="errors", errors={"title": texts.plain("events.signup.gone")})
            return
    entry, publish = blocks.entry_from_state((view.get("state") or {}).get("values") or {}, event)
    known = [s.name for s in await sections.active_sections(deps.db, team_id=team)]
    parsed = event_io.parse(entry, tz=deps.settings.tz, sections=known)
    if isinstance(parsed, list):
        await ack(response_action="errors", errors=blocks.form_errors(texts, parsed, view))
        return
    # Checked here, where it is saved: the audience decides (a lead: only their own 県人会, before and after).
    allowed = await service.may_manage(deps, team_id=team, user_id=user, audience=parsed.audience)
    if allowed and event is not None:
        allowed = await service.may_manage(deps, team_id=team, user_id=user, audience=event.audience)
    if not allowed:
        await ack(response_action="errors", errors={"audience": texts.plain("events.form.not_allowed")})
        return
    if event is None and await store.by_key(deps.db, team_id=team, key=parsed.key) is not None:
        await ack(response_action="errors", errors={"key": texts.plain("events.form.key_taken", key=parsed.key)})
        return
    if event is not None and event.series_key:
        # An occurrence of a series stays in it (a re-import of the series finds it by key).
        series = Recurrence.from_dict(event.recurrence) if event.recurrence else None
        parsed = replace(parsed, series_key=event.series_key, recurrence=series)
    saved, outcome = await service.save(deps, team_id=team, spec=parsed, by=user, publish_now=publish)
    text = texts("events.form.saved", title=saved.title, outcome=texts(f"events.form.{outcome}"))
    await ack(response_action="update", view=blocks.done_view(texts, text))


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_events, COMMAND))
    app.action(blocks.JOIN)(on_join)
    app.action(blocks.CANCEL)(on_cancel)
    app.action(blocks.ICS)(on_ics)
    app.action(blocks.MINE_ICS)(on_mine_ics)
    app.action(blocks.RATE)(on_rate)
    app.action(blocks.MISSED)(on_missed)
    app.action(blocks.TOPIC)(on_topic)
    app.view(blocks.TOPIC_CALLBACK)(on_topic_submit)
    app.view(blocks.FORM_CALLBACK)(on_form_submit)
