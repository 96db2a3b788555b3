"""Approval: organisers approve or reject registrations (once, whoever is first); /approvals lists them."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import approvals as ids
from bot.blocks.approvals import consent_waiting, pending_list, reject_modal, when
from bot.blocks.common import row_id
from bot.blocks.registration_form import clean
from bot.services import membership, sections
from bot.slack.commands import answered_in_time
from bot.slack.context import Deps, deps_of
from bot.slack.permissions import is_organizer
from bot.slack.slash import ANY, SlashCommand
from storage import approvals, consent, members, outbox
from storage.members import Profile

# /approvals: declared once; help, the manifest and the ack deferral read it (bot/slack/slash.py).
COMMAND = SlashCommand("approvals", organisers={ANY: "approvals.list.refusal"}, staff=("",))

log = logging.getLogger(__name__)

_REASON_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def _team(body: dict, context) -> str:
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    return context.team_id or team.get("id") or deps_of(context).team_id


def _request_id(body: dict) -> int | None:
    action = (body.get("actions") or [{}])[0]
    value = action.get("value") if isinstance(action, dict) else None
    return row_id(value)


def _origin(body: dict) -> dict[str, str]:
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    return {"channel": str(container.get("channel_id") or ""), "ts": str(container.get("message_ts") or "")}


async def _say(respond: AsyncRespond, text: str) -> None:
    try:
        await respond(text=text, response_type="ephemeral", replace_original=False)
    except Exception as exc:  # noqa: BLE001 - an expired response_url must not fail the decision
        log.warning("ephemeral reply failed: %s", type(exc).__name__)


async def _already(deps: Deps, respond: AsyncRespond, decided: membership.Decided) -> None:
    request = decided.request
    if request is None or request.status == "withdrawn":  # withdrawn: the applicant erased their data
        await _say(respond, deps.texts("approvals.gone"))
        return
    decision = deps.texts(f"approvals.decisions.{request.status}") if request.status != "pending" else ""
    await _say(respond, deps.texts("approvals.already", by=request.decided_by or "", decision=decision))


async def _announce(
    deps, *, team_id: str, decided: membership.Decided, origin: dict[str, str], respond: AsyncRespond
) -> None:
    """After a decision commits: send what it queued (placement, then greeting and DM; or a DM), update the card."""
    request, member = decided.request, decided.member
    assert request is not None and member is not None
    if request.status == "approved":
        await sections.join_interests(deps, team_id=team_id, user_id=member.user_id)  # 課 named at registration
    deps.outbox.kick()
    await membership.update_card(deps, team_id=team_id, request=request, member=member)
    sent = await _card_location(deps, team_id, request.id)
    if respond is not None and origin.get("ts") and sent != (origin["channel"], origin["ts"]):
        # Decided from the /approvals list (an ephemeral): say there what happened too.
        line = ids.decision_line(
            deps.texts,
            status=request.status,
            by=request.decided_by or "",
            at=when(request.decided_at, deps.settings.tz),
            reason=request.reason,
        )
        await _say(respond, line)


async def _card_location(deps: Deps, team_id: str, request_id: int) -> tuple[str, str] | None:
    row = await outbox.by_key(deps.db, team_id=team_id, key=membership.card_key(request_id))
    return (row.channel or "", row.ts or "") if row else None


async def on_approve(ack: AsyncAck, body: dict, context: AsyncBoltContext, respond: AsyncRespond) -> None:
    await ack()
    deps = deps_of(context)
    team_id, user_id, request_id = _team(body, context), body["user"]["id"], _request_id(body)
    if not await is_organizer(deps, user_id):
        await _say(respond, deps.texts("approvals.refusal"))
        return
    if request_id is None:
        await _say(respond, deps.texts("approvals.gone"))
        return
    decided = await membership.decide(deps, team_id=team_id, request_id=request_id, by=user_id, status="approved")
    if not decided.ok:
        await _already(deps, respond, decided)
        return
    await _announce(deps, team_id=team_id, decided=decided, origin=_origin(body), respond=respond)


async def on_reject(
    ack: AsyncAck, body: dict, client: AsyncWebClient, context: AsyncBoltContext, respond: AsyncRespond
) -> None:
    await ack()
    deps = deps_of(context)
    team_id, user_id, request_id = _team(body, context), body["user"]["id"], _request_id(body)
    if not await is_organizer(deps, user_id):
        await _say(respond, deps.texts("approvals.refusal"))
        return
    request = await approvals.get(deps.db, team_id=team_id, request_id=request_id) if request_id else None
    if request is None or request.status != "pending":
        await _already(deps, respond, membership.Decided(False, request, None))
        return
    member = await members.get(deps.db, team_id=team_id, user_id=request.user_id)
    view = reject_modal(
        deps.texts,
        request_id=request.id,
        user_id=request.user_id,
        name=member.name if member and member.name else "",
        origin=_origin(body),
    )
    try:
        await client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as exc:
        log.warning("reject reason modal not opened: %s", exc.response.get("error"))


async def on_reject_reason(ack: AsyncAck, body: dict, view: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    texts, team_id, user_id = deps.texts, _team(body, context), body["user"]["id"]
    values = ((view.get("state") or {}).get("values")) or {}
    raw = ((values.get(ids.REASON_BLOCK) or {}).get(ids.REASON) or {}).get("value")
    raw = raw if isinstance(raw, str) else ""
    if len(raw) > ids.REASON_LIMIT:
        await ack(
            response_action="errors",
            errors={ids.REASON_BLOCK: texts("approvals.reject_modal.too_long", limit=ids.REASON_LIMIT)},
        )
        return
    reason = "\n".join(clean(line) for line in _REASON_CONTROL.sub("", raw).splitlines()).strip()
    if not reason:
        await ack(response_action="errors", errors={ids.REASON_BLOCK: texts("registration.errors.required")})
        return
    if not await is_organizer(deps, user_id):
        await ack(response_action="errors", errors={ids.REASON_BLOCK: texts("approvals.refusal")})
        return
    request_part, _, rest = (view.get("private_metadata") or "").partition("|")
    channel, _, ts = rest.partition("|")
    request_id = row_id(request_part)
    if request_id is None:
        await ack(response_action="errors", errors={ids.REASON_BLOCK: texts("approvals.gone")})
        return
    decided = await membership.decide(
        deps, team_id=team_id, request_id=request_id, by=user_id, status="rejected", reason=reason
    )
    if not decided.ok:
        request = decided.request
        message = (
            texts(
                "approvals.already",
                by=request.decided_by or "",
                decision=texts(f"approvals.decisions.{request.status}"),
            )
            if request is not None and request.status != "pending"
            else texts("approvals.gone")
        )
        await ack(response_action="errors", errors={ids.REASON_BLOCK: message})
        return
    await ack()
    await _announce(deps, team_id=team_id, decided=decided, origin={"channel": channel, "ts": ts}, respond=None)


async def on_approvals(ack: AsyncAck, command: dict, context: AsyncBoltContext) -> None:
    deps = deps_of(context)
    team_id = context.team_id or deps.team_id
    rows = await approvals.pending(deps.db, team_id=team_id, limit=500)
    shown = [
        {
            "request_id": request.id,
            "user_id": request.user_id,
            "profile": Profile.of(member),
            "answers": membership.card_answers(deps, member),
            "submitted": when(request.submitted_at, deps.settings.tz),
        }
        for request, member in rows[: ids.LIST_LIMIT]
    ]
    more = max(0, len(rows) - ids.LIST_LIMIT)
    footer = []
    terms = deps.community.consent
    if terms is not None:  # terms changed: who has not agreed to the current version yet (schedules/consent.py asks)
        count = await consent.count_awaiting(deps.db, team_id=team_id, version=terms.version)
        if count:
            waiting = await consent.awaiting(deps.db, team_id=team_id, version=terms.version, limit=ids.CONSENT_LIMIT)
            footer = consent_waiting(
                deps.texts, count=count, version=terms.version, user_ids=[m.user_id for m in waiting]
            )
    await ack(response_type="ephemeral", **pending_list(deps.texts, shown, more=more, footer=footer))


def register(app: AsyncApp) -> None:
    app.action(ids.APPROVE)(on_approve)
    app.action(ids.REJECT)(on_reject)
    app.view(ids.REJECT_VIEW)(on_reject_reason)
    app.command(COMMAND.slash)(answered_in_time(on_approvals, COMMAND))
