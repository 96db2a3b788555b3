"""Registration: /register (and the welcome DM's button) opens the form; submitting applies or edits it."""

from __future__ import annotations

import json
import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import profile_form
from bot.blocks import registration as ids
from bot.blocks import registration_form as form
from bot.blocks.onboarding import OPEN_REGISTRATION
from bot.blocks.registration import municipality_options, notice_view, register_modal, transfer_modal
from bot.services import membership
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.slash import SlashCommand
from bot.slack.users import email_of
from storage import approvals, members, prefectures
from storage.data import search_municipalities
from storage.members import Profile

# /register: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("register", opens_form=frozenset({"*"}))

log = logging.getLogger(__name__)

MAX_QUERY = 64
METADATA_LIMIT = 3000  # Slack's private_metadata limit, in characters


def _team(body: dict, context) -> str:
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    return context.team_id or team.get("id") or deps_of(context).team_id


def _form(deps: Deps, member, *, org_type: str | None = None) -> dict:
    """The built-in community keeps today's fixed form; any other profile's form is built from its fields."""
    registered = member is not None and member.name and (member.pref_code or not _has_prefecture(deps))
    profile = Profile.of(member) if registered else None
    if deps.community.is_built_in_form:
        return register_modal(
            deps.texts,
            community=deps.community_name,
            profile=profile,
            org_type=org_type,
            approval=deps.community.approval,
        )
    return profile_form.profile_modal(
        deps.texts, deps.community, profile=profile, answers=member.answers if registered else None
    )


def _has_prefecture(deps: Deps) -> bool:
    return any(f.kind == "prefecture" for f in deps.community.fields)


async def _open_form(client: AsyncWebClient, deps: Deps, *, team_id: str, user_id: str, trigger_id: str) -> None:
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    view = _form(deps, member)
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:  # an expired trigger (the user waited > 3 s) cannot be retried
        log.warning("registration form not opened: %s", exc.response.get("error"))


async def on_register(ack: AsyncAck, command: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    deps = deps_of(context)
    await _open_form(
        client,
        deps,
        team_id=context.team_id or deps.team_id,
        user_id=command["user_id"],
        trigger_id=command["trigger_id"],
    )


async def on_open_registration(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    await ack()
    deps = deps_of(context)
    await _open_form(
        client, deps, team_id=_team(body, context), user_id=body["user"]["id"], trigger_id=body["trigger_id"]
    )


async def on_org_type_chosen(ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext) -> None:
    """The kind of organisation changed: rebuild the form so 市区町村 is marked required only when it is."""
    await ack()
    deps = deps_of(context)
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    if view.get("callback_id") != ids.REGISTER_VIEW or not view.get("id"):
        return
    team_id, user_id = _team(body, context), body["user"]["id"]
    org_type = form.chosen_org_type(((view.get("state") or {}).get("values")) or {})
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    # Same block and action ids: Slack keeps what the person already typed or chose.
    updated = _form(deps, member, org_type=org_type)
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=updated)
    except SlackApiError as exc:  # hash_conflict: a newer version is already shown, which is fine
        log.info("registration form not updated: %s", exc.response.get("error"))


async def on_municipality_options(ack: AsyncAck, body: dict, context: AsyncBoltContext) -> None:
    """Options as the member types: narrowed to the prefecture chosen in the same form, at most 100."""
    query = body.get("value") if isinstance(body.get("value"), str) else ""
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    values = ((view.get("state") or {}).get("values")) or {}
    pref = form.chosen_prefecture(values)
    found = [] if len(query) > MAX_QUERY else search_municipalities(query, pref_code=pref, limit=ids.MAX_OPTIONS)
    await ack(**municipality_options(found, with_prefecture=pref is None))


async def on_submit(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team_id, user_id = deps.texts, _team(body, context), body["user"]["id"]
    values = ((view.get("state") or {}).get("values")) or {}
    answers: dict | None = None
    consent: str | None = None
    if deps.community.is_built_in_form:
        parsed = form.parse(values, texts)
    else:
        submission = profile_form.parse(values, texts, deps.community)
        if isinstance(submission, dict):
            parsed = submission
        else:
            parsed, answers, consent = submission.profile, submission.answers, submission.consent_version
    if isinstance(parsed, dict):
        await ack(response_action="errors", errors=parsed)
        return
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    email = None
    if deps.community.approval.mode == "auto" and (member is None or member.status not in ("approved", "pending")):
        email = await email_of(deps.client, user_id)  # read once, at registration; never stored from here
    moving = (
        deps.community.features.prefecture_channels
        and member is not None
        and member.status == "approved"
        and member.pref_code != parsed.pref_code
    )
    if moving and member.pref_code:
        old = await prefectures.channel_for(deps.db, team_id=team_id, pref_code=member.pref_code)
        new = await prefectures.channel_for(deps.db, team_id=team_id, pref_code=parsed.pref_code)
        metadata = _transfer_metadata(parsed, answers, consent)
        if metadata is None:
            # Too long to travel with the view: the profile's own answers (which never move anyone) are kept
            # now, and only the typed profile waits for the confirmation. Nothing is lost either way, and no
            # server-side pending state has to survive a restart or reach another replica.
            await membership.save_answers(
                deps, team_id=team_id, user_id=user_id, answers=answers or {}, consent_version=consent
            )
            metadata = json.dumps({"profile": parsed.as_dict()}, ensure_ascii=False)
        await ack(
            response_action="push",
            view=transfer_modal(
                texts,
                profile=parsed,
                old_pref=member.pref_code,
                old_channel=old.channel_id if old else None,
                new_channel=new.channel_id if new else None,
                metadata=metadata,
            ),
        )
        return
    saved = await membership.save_profile(
        deps,
        team_id=team_id,
        user_id=user_id,
        profile=parsed,
        answers=answers,
        consent_version=consent,
        email=email,
    )
    await ack(response_action="update", view=_result_view(texts, saved.outcome))
    await _after_save(deps, team_id=team_id, user_id=user_id, saved=saved)


async def on_transfer_confirmed(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    team_id, user_id = _team(body, context), body["user"]["id"]
    try:
        data = json.loads(view.get("private_metadata") or "null")
    except ValueError:
        data = None
    # {"profile", "answers", "consent"}; a bare profile is what views opened before answers travelled carry.
    carried = data if isinstance(data, dict) and isinstance(data.get("profile"), dict) else {"profile": data}
    profile = form.from_metadata(carried["profile"])
    if profile is None:
        await ack(response_action="clear")
        return
    answers = None
    if "answers" in carried and not deps.community.is_built_in_form:
        answers = profile_form.carried_answers(deps.community, carried["answers"])
    consent = deps.community.consent.version if deps.community.consent else None
    saved = await membership.save_profile(
        deps,
        team_id=team_id,
        user_id=user_id,
        profile=profile,
        answers=answers,
        consent_version=consent if carried.get("consent") == consent else None,
    )
    await ack(response_action="clear")
    await _after_save(deps, team_id=team_id, user_id=user_id, saved=saved)


def _transfer_metadata(profile: Profile, answers: dict | None, consent: str | None) -> str | None:
    """Everything the confirmation saves, as the transfer view's private_metadata; None when it is too long."""
    data: dict = {"profile": profile.as_dict()}
    if answers is not None:
        data |= {"answers": answers, "consent": consent}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= METADATA_LIMIT else None


def _result_view(texts, outcome: str) -> dict:
    if outcome in ("submitted", "pending_updated"):
        return notice_view(texts, title_key="registration.received.title", body=texts("registration.received.body"))
    if outcome == "auto_approved":
        return notice_view(texts, title_key="registration.received.title", body=texts("registration.auto_approved"))
    if outcome == "reapproval":
        return notice_view(texts, title_key="registration.updated.title", body=texts("registration.updated.reapproval"))
    return notice_view(texts, title_key="registration.updated.title", body=texts("registration.updated.body"))


async def _after_save(deps: Deps, *, team_id: str, user_id: str, saved: membership.Saved) -> None:
    """Slack side effects after the commit: the outbox moves channels (a transfer) and sends what was queued."""
    if saved.outcome == "pending_updated" and saved.request_id is not None:
        request = await approvals.get(deps.db, team_id=team_id, request_id=saved.request_id)
        member = await members.get(deps.db, team_id=team_id, user_id=user_id)
        if request is not None and member is not None:
            await membership.update_card(deps, team_id=team_id, request=request, member=member)
    deps.outbox.kick()


def register(app: AsyncApp) -> None:
    app.command(COMMAND.slash)(answered_in_time(on_register))
    app.action(OPEN_REGISTRATION)(on_open_registration)
    app.options(ids.MUNI)(on_municipality_options)
    app.action(ids.ORG_TYPE)(on_org_type_chosen)
    app.view(ids.REGISTER_VIEW)(on_submit)
    app.view(ids.TRANSFER_VIEW)(on_transfer_confirmed)
