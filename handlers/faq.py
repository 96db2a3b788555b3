"""The FAQ's listeners: /faq, its buttons and forms, and answers to mentions in channels and to DMs.

/faq searches, lists categories, takes 👍/👎, forwards a question to the organisers and lets them add, edit,
answer it with an existing entry or turn auto-answers on; a mention or a DM is answered in the asker's thread
when the match is sure, else "I do not know".
"""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.blocks import faq as ids
from bot.blocks import faq_link
from bot.blocks.common import esc, notice
from bot.blocks.faq import categories_message, continued_message, no_match_message, results_message
from bot.blocks.faq_form import CALLBACK, done_view, faq_modal, parse_meta, read_form
from bot.services.faq import MEMBERS, RELEVANT, forward, question_of, reply, show_answered, teach, visibilities
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.events import once_per_event
from bot.slack.permissions import is_organizer
from bot.slack.slash import SlashCommand
from storage import faq_channels, faqs

# /faq: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand(
    "faq",
    opens_form=frozenset({"add", "edit"}),
    organisers=dict.fromkeys(("add", "edit", "auto"), "faq.admin.not_allowed"),
    staff=("",),
)

log = logging.getLogger(__name__)


def _team(context, deps: Deps) -> str:
    return context.team_id or deps.team_id


async def _tell(body: dict, respond: AsyncRespond, text: str) -> None:
    """An ephemeral reply to a click; a forged click without a response_url (e.g. inside a modal) gets none."""
    if body.get("response_url"):
        await respond(response_type="ephemeral", replace_original=False, **notice(text))


def _user(body: dict) -> str:
    user = body.get("user")
    return str(user.get("id") or "") if isinstance(user, dict) else ""


async def search(deps: Deps, team: str, user: str, query: str) -> dict:
    texts = deps.texts
    organiser = await is_organizer(deps, user)
    shown = await visibilities(deps, user, private=True)
    hits = [
        h
        for h in await faqs.search(db=deps.db, team_id=team, query=query, limit=3, visibilities=shown)
        if h.score >= RELEVANT
    ]
    if not hits:
        row = await faqs.log_unanswered(db=deps.db, team_id=team, question=query)
        return no_match_message(texts, query, row.id if row else None)
    return results_message(
        texts, query, [h.faq for h in hits], organiser=organiser, offer_forward=not hits[0].confident
    )


async def auto(deps: Deps, team: str, user: str, channel: str, setting: str) -> dict:
    texts = deps.texts
    if channel.startswith("D"):
        return notice(texts("faq.auto.dm"))
    if setting in ("on", "off"):
        await faq_channels.set_auto_answer(db=deps.db, team_id=team, channel_id=channel, on=setting == "on", by=user)
        return notice(texts(f"faq.auto.{setting}", channel=channel))
    on = await faq_channels.auto_answer(db=deps.db, team_id=team, channel_id=channel)
    return notice(texts("faq.auto.status_on" if on else "faq.auto.status_off", channel=channel))


async def open_form(deps: Deps, trigger_id: str, view: dict) -> None:
    try:
        await deps.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("FAQ form not opened: %s", exc.response.get("error"))


async def on_faq(ack: AsyncAck, command: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(context, deps), command.get("user_id", "")
    text = " ".join(str(command.get("text") or "").split())
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    admin = (verb == "add" and not rest) or verb == "edit" or (verb == "auto" and rest.lower() in ("", "on", "off"))
    if not text:
        shown = await visibilities(deps, user, private=True)
        found = await faqs.list_categories(db=deps.db, team_id=team, visibilities=shown)
        await ack(response_type="ephemeral", **categories_message(texts, found))
        return
    if not admin:
        await ack(response_type="ephemeral", **await search(deps, team, user, text))
        return
    if (refusal := COMMAND.refusal_for(verb)) and not await is_organizer(deps, user):
        await ack(response_type="ephemeral", **notice(texts(refusal)))
        return
    if verb == "auto":
        answer = await auto(deps, team, user, str(command.get("channel_id") or ""), rest.lower())
        await ack(response_type="ephemeral", **answer)
        return
    entry = None
    if verb == "edit":
        number = ids.row_id(rest)
        if number is None:
            await ack(response_type="ephemeral", **notice(texts("faq.admin.edit_usage")))
            return
        entry = await faqs.get(db=deps.db, team_id=team, faq_id=number)
        if entry is None:
            await ack(response_type="ephemeral", **notice(texts("faq.admin.not_found", id=number)))
            return
    await ack()
    await open_form(deps, str(command.get("trigger_id") or ""), faq_modal(texts, entry))


async def on_feedback(
    ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    deps = deps_of(context)
    team, user, value = _team(context, deps), _user(body), str(action.get("value") or "")
    helpful = action.get("action_id") == ids.HELPFUL
    number = ids.row_id(value)
    entry = await faqs.get(db=deps.db, team_id=team, faq_id=number) if number is not None else None
    if entry is not None and entry.visibility not in await visibilities(deps, user, private=True):
        entry = None  # a forged click on an entry this member cannot see
    if entry is None:
        text = deps.texts("faq.feedback.gone")
    else:
        await faqs.record_feedback(db=deps.db, team_id=team, faq_id=entry.id, user_id=user, helpful=helpful)
        text = deps.texts("faq.feedback.helpful" if helpful else "faq.feedback.unhelpful")
    await _tell(body, respond, text)


async def on_forward(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    """Post the question to the organisers' channel: once per question per member (outbox key)."""
    await ack()
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(context, deps), _user(body)
    row_id, question = ids.parse_forward(str(action.get("value") or ""))
    row = None
    if row_id is not None:
        row = await faqs.get_unanswered(db=deps.db, team_id=team, unanswered_id=row_id)
    elif question:
        row = await faqs.log_unanswered(db=deps.db, team_id=team, question=question)
    channel = deps.settings.yakuba_admin_channel
    if row is None or not user:
        text = texts("faq.forward.gone")
    elif not channel:
        text = texts("faq.forward.no_channel")
    else:
        new = await forward(deps, team=team, unanswered_id=row.id, user=user, channel=channel)
        text = texts("faq.forward.done" if new else "faq.forward.already")
    await _tell(body, respond, text)


async def on_more(ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    """ "Read more" under a long answer: its next part, to whoever clicked."""
    await ack()
    deps = deps_of(context)
    team, user = _team(context, deps), _user(body)
    where = ids.parse_more(str(action.get("value") or ""))
    entry = await faqs.get(db=deps.db, team_id=team, faq_id=where[0]) if where else None
    if entry is not None and entry.visibility not in await visibilities(deps, user, private=True):
        entry = None  # a forged click on an entry this member cannot see
    if entry is None or where is None or not 0 < where[1] < len(entry.answer):
        await _tell(body, respond, deps.texts("faq.feedback.gone"))
        return
    if body.get("response_url"):
        page = continued_message(deps.texts, entry, where[1])
        await respond(response_type="ephemeral", replace_original=False, **page)


async def on_edit_or_answer(
    ack: AsyncAck, body: dict, action: dict, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    """An organiser's "edit" under a result, or "write an answer" / "answer with an entry" on a forwarded question."""
    await ack()
    deps = deps_of(context)
    texts, team, value = deps.texts, _team(context, deps), str(action.get("value") or "")
    if not await is_organizer(deps, _user(body)):
        await _tell(body, respond, texts("faq.admin.not_allowed"))
        return
    view = None
    number = ids.row_id(value)
    if number is not None and action.get("action_id") == ids.EDIT:
        entry = await faqs.get(db=deps.db, team_id=team, faq_id=number)
        view = faq_modal(texts, entry) if entry else None
    elif number is not None:
        row = await faqs.get_unanswered(db=deps.db, team_id=team, unanswered_id=number)
        if row is not None and action.get("action_id") == ids.LINK:
            view = faq_link.link_modal(texts, row)
        elif row is not None:
            view = faq_modal(texts, question=row.question, unanswered_id=row.id)
    if view is None:
        await _tell(body, respond, texts("faq.form.error.gone"))
        return
    await open_form(deps, str(body.get("trigger_id") or ""), view)


async def on_save(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(context, deps), _user(body)
    # Checked again here: a submission can be forged, or the right lost since the form opened.
    if not await is_organizer(deps, user):
        await ack(response_action="errors", errors={"question": texts("faq.admin.not_allowed")})
        return
    kind, ref = parse_meta(str(view.get("private_metadata") or ""))
    fields, errors = read_form(texts, (view.get("state") or {}).get("values") or {})
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    current = await faqs.get(db=deps.db, team_id=team, faq_id=ref) if kind == "faq" and ref else None
    if kind == "faq" and current is None:
        await ack(response_action="errors", errors={"question": texts("faq.form.error.gone")})
        return
    if fields["answer"] is None:  # the form could not show this answer: it stays as stored
        if current is None:
            await ack(response_action="errors", errors={"question": texts("faq.form.error.required")})
            return
        fields["answer"] = current.answer
    same = await faqs.find(db=deps.db, team_id=team, question=fields["question"])
    if same is not None and (current is None or same.id != current.id):
        await ack(response_action="errors", errors={"question": texts("faq.form.error.taken", id=same.id)})
        return
    if current is not None:
        entry, outcome = await faqs.update(
            db=deps.db, team_id=team, faq_id=current.id, edited_by=user, author=current.author, **fields
        )
    else:
        entry, outcome = await faqs.upsert(db=deps.db, team_id=team, edited_by=user, author=user, **fields)
    # An answer written for a forwarded question teaches it and tells its askers, as linking an entry does.
    taught = None
    if kind == "unanswered" and ref:
        taught = await teach(deps, team=team, unanswered_id=ref, faq_id=entry.id, by=user)
    text = texts(
        "faq.form.saved", outcome=texts(f"faq.form.outcome.{outcome}"), id=entry.id, question=esc(entry.question)
    )
    await ack(response_action="update", view=done_view(texts, text))
    if taught is not None:
        await show_answered(deps, team=team, taught=taught)


async def on_link_options(ack: AsyncAck, body: dict, payload: dict, context: AsyncBoltContext) -> None:
    """Entries an organiser may answer a forwarded question with: by number, by words, else by the question."""
    deps = deps_of(context)
    team, user = _team(context, deps), _user(body)
    if not await is_organizer(deps, user):
        await ack(options=[])
        return
    typed = " ".join(str(payload.get("value") or "").split())
    found = []
    number = ids.row_id(typed.lstrip("#＃"))
    if number is not None:
        entry = await faqs.get(db=deps.db, team_id=team, faq_id=number)
        found = [entry] if entry is not None and entry.visibility in MEMBERS else []
    if not found:
        query = typed
        if not query:
            row_number = faq_link.question_id(body.get("view") or {})
            row = await faqs.get_unanswered(db=deps.db, team_id=team, unanswered_id=row_number) if row_number else None
            query = row.question if row else ""
        hits = await faqs.search(db=deps.db, team_id=team, query=query, limit=10, visibilities=MEMBERS) if query else []
        found = [h.faq for h in hits]
    await ack(options=[faq_link.entry_option(deps.texts, f) for f in found])


async def on_link_save(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    """The organiser chose the entry that answers a forwarded question."""
    deps = deps_of(context)
    texts, team, user = deps.texts, _team(context, deps), _user(body)
    if not await is_organizer(deps, user):
        await ack(response_action="errors", errors={faq_link.BLOCK: texts("faq.admin.not_allowed")})
        return
    number = faq_link.chosen_entry((view.get("state") or {}).get("values") or {})
    row_number = faq_link.question_id(view)
    entry = await faqs.get(db=deps.db, team_id=team, faq_id=number) if number is not None else None
    if entry is None:
        await ack(response_action="errors", errors={faq_link.BLOCK: texts("faq.form.error.gone")})
        return
    if entry.visibility not in MEMBERS:
        await ack(response_action="errors", errors={faq_link.BLOCK: texts("faq.link.hidden")})
        return
    taught = None
    if row_number is not None:
        taught = await teach(deps, team=team, unanswered_id=row_number, faq_id=entry.id, by=user)
    if taught is None:
        await ack(response_action="errors", errors={faq_link.BLOCK: texts("faq.form.error.gone")})
        return
    text = texts("faq.link.done", id=entry.id, question=esc(entry.question), count=len(taught.tell))
    await ack(response_action="update", view=done_view(texts, text))
    await show_answered(deps, team=team, taught=taught)


# --- mentions in channels and DMs to the bot: answered in the asker's thread when sure, else "I do not know" --
# The reply is bot/services/faq.py; it goes through the outbox keyed by the asked message, so Slack re-sending
# the event under a new event_id (once_per_event catches the same id) never answers twice.


def _bot(deps: Deps, context: AsyncBoltContext) -> str:
    return getattr(context, "bot_user_id", None) or deps.bot_user_id


async def on_app_mention(event: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    bot = _bot(deps, context)
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)) or event.get("bot_id"):
        return
    if user == bot:
        return
    team = context.team_id or deps.team_id
    if not await faq_channels.auto_answer(db=deps.db, team_id=team, channel_id=channel):
        try:
            await deps.client.chat_postEphemeral(
                channel=channel, user=user, **notice(deps.texts("faq.mention.auto_off"))
            )
        except SlackApiError as exc:
            log.warning("auto-answer-off notice not shown: %s", exc.response.get("error"))
        return
    await reply(
        deps,
        team=team,
        channel=channel,
        ts=ts,
        thread_ts=event.get("thread_ts") or ts,
        user=user,
        question=question_of(str(event.get("text") or ""), bot),
        private=False,
    )


async def on_message(event: dict, context: AsyncBoltContext) -> None:
    """DMs to the bot only; edits, joins and other subtypes, and every bot's messages are ignored."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    deps = deps_of(context)
    user, channel, ts = event.get("user"), event.get("channel"), event.get("ts")
    if not (isinstance(user, str) and isinstance(channel, str) and isinstance(ts, str)) or user == _bot(deps, context):
        return
    await reply(
        deps,
        team=context.team_id or deps.team_id,
        channel=channel,
        ts=ts,
        thread_ts=event.get("thread_ts") or ts,
        user=user,
        question=question_of(str(event.get("text") or ""), _bot(deps, context)),
        private=True,
    )


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_faq))
    app.action(ids.HELPFUL)(on_feedback)
    app.action(ids.UNHELPFUL)(on_feedback)
    app.action(ids.FORWARD)(on_forward)
    app.action(ids.EDIT)(on_edit_or_answer)
    app.action(ids.ANSWER)(on_edit_or_answer)
    app.action(ids.LINK)(on_edit_or_answer)
    app.action(ids.MORE)(on_more)
    app.options(faq_link.ENTRY)(on_link_options)
    app.view(CALLBACK)(on_save)
    app.view(faq_link.CALLBACK)(on_link_save)
    app.event("app_mention")(once_per_event(on_app_mention))
    app.event("message")(once_per_event(on_message))
