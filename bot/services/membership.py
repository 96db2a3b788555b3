"""Membership service shared by registration, approval and leaving: profile saves, decisions, placement;
and the backfill of everyone already in the workspace (`yakuba members sync`).

Every state change and the messages it owes (card, DMs) commit in one transaction through the outbox. Putting a
member in their prefecture association's channel is an outbox row too (kind "invite", run by `Placement`):
leased, retried through rate limits, keyed so a retry, a second replica or a restart never doubles it; the
greeting and the DM that say the member is in are queued only once they are, and a placement that cannot be
done is reported with its fix.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import approvals as approval_blocks
from bot.blocks import prefectures as prefecture_blocks
from bot.blocks import profile_form
from bot.services import events
from bot.slack.context import Deps
from storage import approvals, audit, members, outbox, prefectures
from storage.community import ProfileField
from storage.data import prefecture
from storage.members import Profile
from storage.models import ApprovalRequest, Member, OutboxMessage

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
SLACKBOT = "USLACKBOT"
AUTO = "auto"  # approved_by / audit actor of an auto-approval (the rule is in the audit detail)
PAGE_SIZE = 200  # what Slack recommends for users.list
MAX_RATE_WAITS = 20


def card_key(request_id: int) -> str:
    return f"approval-card:{request_id}"


def needs_reapproval(rule: str, old: Profile, new: Profile) -> bool:
    """Approved members keep their approval across edits unless the organisers' rule says otherwise."""
    if rule == "never":
        return False
    if rule == "municipality":
        return (old.org_type, old.pref_code, old.muni_code) != (new.org_type, new.pref_code, new.muni_code)
    return old.org_type != new.org_type


@dataclass(frozen=True)
class Saved:
    outcome: str  # submitted | auto_approved | pending_updated | reapproval | updated | transferred
    member_id: int
    request_id: int | None = None
    old_pref: str | None = None


def card_answers(deps: Deps, member: Member) -> tuple[tuple[str, str], ...]:
    """(label, value) of the answers to fields the profile in force adds, for organisers' eyes."""
    return tuple(
        (label, _shown(deps, f, value))
        for f, label, value in profile_form.answered(deps.community, member.answers or {}, deps.texts.lang)
        if f is not None
    )


def _shown(deps: Deps, f: ProfileField, value: object) -> str:
    option = next((o for o in f.options if o.value == value), None)
    if option is not None:
        return option.label(deps.texts.lang)
    if value is True:
        return deps.texts.plain("registration.profile.checked")
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _confirmed(deps: Deps) -> bool:
    return deps.community.eligibility.who != "anyone"


def card_rows(deps: Deps) -> tuple[str, ...]:
    """The typed rows of the approval card that the profile's form asks (all of them for the built-in form)."""
    asked = {f.key for f in deps.community.fields} | {f.kind for f in deps.community.fields}
    # The organisation line needs the kind or the municipality; a profile with neither shows the prefecture.
    government = bool(asked & {"org_type", "municipality"})
    wanted = {
        "name": "name",
        "government": "prefecture" if government else "-",
        "prefecture": "-" if government else "prefecture",
        "department": "department",
        "title": "title",
    }
    rows = [row for row, key in wanted.items() if key in asked]
    return (*rows, "interests") if "sections" in asked else tuple(rows)


async def _queue_card(
    deps: Deps, session: AsyncSession, *, team_id: str, request: ApprovalRequest, profile: Profile, member: Member
) -> None:
    channel = deps.settings.yakuba_admin_channel
    if not channel:
        log.warning("YAKUBA_ADMIN_CHANNEL is not set: approval card %s not posted", request.id)
        return
    payload = approval_blocks.card(
        deps.texts,
        request_id=request.id,
        user_id=request.user_id,
        profile=profile,
        kind=request.kind,
        submitted=approval_blocks.when(request.submitted_at, deps.settings.tz),
        answers=card_answers(deps, member),
        confirmed=_confirmed(deps),
        rows=card_rows(deps),
    )
    await outbox.enqueue(
        session, team_id=team_id, key=card_key(request.id), kind="post", target=channel, payload=payload
    )


async def save_answers(
    deps: Deps, *, team_id: str, user_id: str, answers: dict[str, Any], consent_version: str | None
) -> None:
    """Keep the answers to the profile's own fields (and the consent given) of a member who already exists;
    the typed profile, which decides approval and channels, is left as it is."""
    async with deps.db.write() as session:
        member = await members.by_user(session, team_id=team_id, user_id=user_id)
        if member is None or member.left_at is not None:
            return
        members.apply_answers(member, answers, asked=[f.key for f in deps.community.fields])
        if consent_version is not None and member.consent_version != consent_version:
            member.consent_version, member.consent_at = consent_version, deps.clock()


async def save_profile(
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
    profile: Profile,
    answers: dict[str, Any] | None = None,
    consent_version: str | None = None,
    email: str | None = None,
) -> Saved:
    """Store a submitted form and decide what it means (new application, edit, re-approval, transfer).

    `answers` are the fields the profile adds (None: leave them as they are); `email` is the member's Slack
    email, read for auto-approval only and never stored here.
    """
    texts, now = deps.texts, deps.clock()
    async with deps.db.write() as session:
        member = await members.by_user(session, team_id=team_id, user_id=user_id)
        if member is None or member.left_at is not None:
            member = await members.join(session, team_id=team_id, user_id=user_id)
        old = Profile.of(member)
        status = member.status
        members.apply_profile(member, profile, now=now)
        if deps.community.eligibility.who == "anyone":
            member.public_servant_confirmed_at = None  # nobody confirmed being a public servant: nobody was asked
        if answers is not None:
            members.apply_answers(member, answers, asked=[f.key for f in deps.community.fields])
        if consent_version is not None and member.consent_version != consent_version:
            member.consent_version, member.consent_at = consent_version, now
        if status == "approved":
            if needs_reapproval(deps.settings.yakuba_reapprove_on, old, profile):
                member.status = "pending"
                request, _ = await approvals.open_request(
                    session, team_id=team_id, user_id=user_id, kind="reapproval", now=now
                )
                await _queue_card(deps, session, team_id=team_id, request=request, profile=profile, member=member)
                audit.record(
                    session,
                    team_id=team_id,
                    actor=user_id,
                    action="registration.resubmitted",
                    subject=user_id,
                    detail={"request": request.id},
                )
                return Saved("reapproval", member.id, request.id, old.pref_code)
            if old.pref_code == profile.pref_code or not deps.community.features.prefecture_channels:
                return Saved("updated", member.id)
            await _queue_transfer(deps, session, team_id=team_id, member=member, old_pref=old.pref_code, now=now)
            audit.record(
                session,
                team_id=team_id,
                actor=user_id,
                action="member.transferred",
                subject=user_id,
                detail={"from": old.pref_code, "to": profile.pref_code},
            )
            return Saved("transferred", member.id, None, old.pref_code)
        if status == "pending":
            request, created = await approvals.open_request(
                session, team_id=team_id, user_id=user_id, kind="new", now=now
            )
            if created:
                await _queue_card(deps, session, team_id=team_id, request=request, profile=profile, member=member)
            return Saved("pending_updated", member.id, request.id)
        member.status, member.registered_at, member.rejected_reason = "pending", now, None
        request, _ = await approvals.open_request(session, team_id=team_id, user_id=user_id, kind="new", now=now)
        rule = deps.community.approval.approves(email)
        if rule is not None:
            # Auto-approval: the Slack email is under a domain the profile trusts; no card, the rule is audited.
            await approvals.decide(
                session, request_id=request.id, team_id=team_id, status="approved", by=AUTO, now=now, reason=None
            )
            await _admit(deps, session, member=member, by=AUTO, ref=str(request.id), now=now)
            audit.record(
                session,
                team_id=team_id,
                actor=AUTO,
                action="registration.auto_approved",
                subject=user_id,
                detail={"request": request.id, "rule": rule},
            )
            return Saved("auto_approved", member.id, request.id)
        await _queue_card(deps, session, team_id=team_id, request=request, profile=profile, member=member)
        await outbox.enqueue(
            session,
            team_id=team_id,
            key=f"registered-dm:{request.id}",
            kind="dm",
            target=user_id,
            payload={"text": texts("registration.received.dm")},
        )
        audit.record(
            session,
            team_id=team_id,
            actor=user_id,
            action="registration.submitted",
            subject=user_id,
            detail={"request": request.id},
        )
        return Saved("submitted", member.id, request.id)


async def _queue_transfer(
    deps: Deps, session: AsyncSession, *, team_id: str, member: Member, old_pref: str, now: datetime
) -> None:
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    channel = await prefectures.channel_in(session, team_id=team_id, pref_code=member.pref_code)
    if channel is not None:
        # Invited to the new channel, out of the old one, then greeted and told (Placement).
        await _queue_placement(
            deps, session, member=member, channel_id=channel.channel_id, reason="transfer", ref=stamp
        )
        return
    deps.metrics.placements.labels(outcome="waiting").inc()
    await outbox.enqueue(
        session,
        team_id=team_id,
        key=f"transfer-dm:{member.id}:{stamp}",
        kind="dm",
        target=member.user_id,
        payload=_transfer_dm(deps, member.pref_code, "done"),
    )


@dataclass(frozen=True)
class Decided:
    ok: bool
    request: ApprovalRequest | None
    member: Member | None


async def decide(
    deps: Deps, *, team_id: str, request_id: int, by: str, status: str, reason: str | None = None
) -> Decided:
    """One organiser's decision, atomically; the loser of a race gets ok=False and the winner's request."""
    texts, now = deps.texts, deps.clock()
    async with deps.db.write() as session:
        won = await approvals.decide(
            session, request_id=request_id, team_id=team_id, status=status, by=by, now=now, reason=reason
        )
        request = await session.get(ApprovalRequest, request_id)
        if request is None or request.team_id != team_id:
            return Decided(False, None, None)
        member = await members.by_user(session, team_id=team_id, user_id=request.user_id)
        if not won or member is None:
            return Decided(False, request, member)
        if status == "approved":
            await _admit(deps, session, member=member, by=by, ref=str(request_id), now=now)
        else:
            member.status, member.rejected_reason = "rejected", reason
            await outbox.enqueue(
                session,
                team_id=team_id,
                key=f"rejected-dm:{member.id}:{request_id}",
                kind="dm",
                target=member.user_id,
                payload=approval_blocks.rejected_dm(texts, reason=reason or ""),
            )
        member.updated_at = now
        audit.record(
            session,
            team_id=team_id,
            actor=by,
            action=f"registration.{status}",
            subject=member.user_id,
            detail={"request": request_id, "kind": request.kind},
        )
        return Decided(True, request, member)


async def _admit(deps: Deps, session: AsyncSession, *, member: Member, by: str, ref: str, now: datetime) -> None:
    """Approve inside the caller's transaction: placed in the prefecture's channel, or told it is coming."""
    member.status, member.approved_at, member.approved_by = "approved", now, by
    placing = deps.community.features.prefecture_channels
    channel = await prefectures.channel_in(session, team_id=member.team_id, pref_code=member.pref_code)
    if placing and channel is not None:
        # The greeting and the "approved" DM follow once the member is in the channel (Placement).
        await _queue_placement(
            deps,
            session,
            member=member,
            channel_id=channel.channel_id,
            reason="approved",
            ref=ref,
            greet=member.placed_pref_code != member.pref_code,
        )
    else:
        # "waiting": approved before their prefecture had a channel; `setup prefectures` places them later.
        if placing:
            deps.metrics.placements.labels(outcome="waiting").inc()
        await outbox.enqueue(
            session,
            team_id=member.team_id,
            key=f"approved-dm:{member.id}:{ref}",
            kind="dm",
            target=member.user_id,
            payload=await _approved_dm(deps, member.pref_code or "", None),
        )


async def update_card(deps: Deps, *, team_id: str, request: ApprovalRequest, member: Member) -> None:
    """Show on the admin card who decided and when (or the edited profile while pending)."""
    sent = await outbox.by_key(deps.db, team_id=team_id, key=card_key(request.id))
    if sent is None or not sent.ts or not sent.channel:
        return
    tz = deps.settings.tz
    decision = None
    if request.status in ("approved", "rejected") and request.decided_at and request.decided_by:
        decision = approval_blocks.decision_line(
            deps.texts,
            status=request.status,
            by=request.decided_by,
            at=approval_blocks.when(request.decided_at, tz),
            reason=request.reason,
        )
    payload = approval_blocks.card(
        deps.texts,
        request_id=request.id,
        user_id=request.user_id,
        profile=Profile.of(member),
        kind=request.kind,
        submitted=approval_blocks.when(request.submitted_at, tz),
        decision=decision,
        answers=card_answers(deps, member),
        confirmed=_confirmed(deps),
        rows=card_rows(deps),
    )
    try:
        await deps.client.chat_update(channel=sent.channel, ts=sent.ts, **payload)
    except SlackApiError as exc:
        log.warning("approval card %s not updated: %s", request.id, exc.response.get("error"))


# --- placement in the prefecture's channel: an outbox step -----------------------------------------------

PLACEMENT = "placement"  # outbox key prefix of the "invite" rows: placement:{member id}:{reason}:{ref}
GREETING_KEYS = ("greeting:", "transfer-greeting:", "placed-greeting:")


async def _approved_dm(deps: Deps, pref_code: str, channel_id: str | None, *, pending: bool = False) -> dict:
    payload = approval_blocks.approved_dm(
        deps.texts,
        community=deps.community_name,
        pref_code=pref_code,
        channel_id=channel_id,
        broadcast_channel=deps.settings.yakuba_broadcast_channel,
        pending=pending,
        profile=deps.community,
    )
    return await events.with_next_setsumeikai(deps, payload, team_id=deps.team_id)


def _transfer_dm(deps: Deps, pref_code: str | None, outcome: str) -> dict:
    pref = prefecture(pref_code or "")
    return {"text": deps.texts(f"registration.transfer.{outcome}", prefecture=pref.name if pref else "")}


async def _queue_placement(
    deps: Deps, session: AsyncSession, *, member: Member, channel_id: str, reason: str, ref: str, greet: bool = True
) -> None:
    """One placement, keyed by member and what caused it (approval, transfer, set-up, reactivation).

    The row names the member by row id only: what follows is decided when it runs, from the member as they are then.
    """
    await outbox.enqueue(
        session,
        team_id=member.team_id,
        key=f"{PLACEMENT}:{member.id}:{reason}:{ref}",
        kind="invite",
        target=channel_id,
        payload={"member": member.id, "reason": reason, "ref": ref, "greet": greet},
        now=deps.clock(),
    )


async def place(deps: Deps, *, team_id: str, user_id: str, reason: str = "restore") -> str | None:
    """Queue putting an approved member (back) in their prefecture's channel; the channel id, None if it has none.

    `reason` "late": approved or moved before the channel existed (or a placement that failed), so they are greeted
    and told when they are in, unless greeted in that channel before; "restore": a reactivated account, told nothing.
    Nothing is queued while an earlier placement of theirs is still under way.
    """
    async with deps.db.write() as session:
        member = await members.by_user(session, team_id=team_id, user_id=user_id)
        if member is None or member.status != "approved" or member.left_at is not None or not member.pref_code:
            return None
        channel = await prefectures.channel_in(session, team_id=team_id, pref_code=member.pref_code)
        if channel is None:
            return None
        if not await outbox.unfinished(session, team_id=team_id, key_prefix=f"{PLACEMENT}:{member.id}:"):
            stamp = deps.clock().strftime("%Y%m%dT%H%M%S%f")
            await _queue_placement(
                deps, session, member=member, channel_id=channel.channel_id, reason=reason, ref=stamp
            )
    deps.outbox.kick()
    return channel.channel_id


Queued = tuple[str, str, str, dict]  # an outbox message: key, kind, target, payload


async def _queue_all(deps: Deps, session: AsyncSession, *, team_id: str, messages: list[Queued]) -> None:
    for key, kind, target, payload in messages:
        await outbox.enqueue(
            session, team_id=team_id, key=key, kind=kind, target=target, payload=payload, now=deps.clock()
        )


def _retry_later(exc: SlackApiError) -> bool:
    return exc.response.get("error") == "ratelimited" or exc.response.status_code >= 500


class Placement:
    """The outbox's "invite" step: put a member in their prefecture's channel (and out of the previous one), then queue
    the greeting and the DM that say so; when it cannot be done, report it with its fix and tell the member."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _member(self, row: OutboxMessage) -> Member | None:
        """The member this row places, while the row still says where they belong (else None: nothing to do)."""
        member_id = row.payload.get("member")
        async with self.deps.db.read() as session:
            member = await session.get(Member, member_id) if isinstance(member_id, int) else None
            if member is None or member.status != "approved" or member.left_at is not None or not member.pref_code:
                return None
            channel = await prefectures.channel_in(session, team_id=row.team_id, pref_code=member.pref_code)
        # Moved on, left or forgotten since, or the channel was replaced: a later row (or set-up) places them.
        return member if channel is not None and channel.channel_id == row.target else None

    async def run(self, row: OutboxMessage) -> dict:
        member = await self._member(row)
        if member is None:
            return {"channel": None}
        await self._invite(row.target, member.user_id)
        await self._leave_previous(member)
        async with self.deps.db.write() as session:
            placed = await session.get(Member, member.id)
            if placed is not None:
                placed.placed_pref_code, placed.updated_at = member.pref_code, self.deps.clock()
                await self._follow_up(session, row, placed)
        self.deps.metrics.placements.labels(outcome="placed").inc()
        return {"channel": row.target}

    async def _invite(self, channel: str, user_id: str) -> None:
        """Invite; already in is success; when the bot is not in the channel, it joins and invites once more."""
        client = self.deps.client
        for attempt in range(2):
            try:
                await client.conversations_invite(channel=channel, users=user_id)
                return
            except SlackApiError as exc:
                error = exc.response.get("error")
                if error == "already_in_channel":
                    return
                if error != "not_in_channel" or attempt:
                    raise
                try:
                    await client.conversations_join(channel=channel)
                except SlackApiError as refused:
                    if refused.response.get("error") == "method_not_supported_for_channel_type":
                        raise exc from refused  # a private channel: only an invitation lets the bot in
                    raise

    async def _leave_previous(self, member: Member) -> None:
        """Out of the channel of the prefecture they were placed in before (a transfer); already out is fine."""
        old = member.placed_pref_code
        if not old or old == member.pref_code:
            return
        previous = await prefectures.channel_for(self.deps.db, team_id=member.team_id, pref_code=old)
        if previous is None:
            return
        try:
            await self.deps.client.conversations_kick(channel=previous.channel_id, user=member.user_id)
        except SlackApiError as exc:
            if _retry_later(exc):
                raise  # the whole step again later: the invite then answers already_in_channel
            if exc.response.get("error") != "not_in_channel":
                log.warning("removal from the old prefecture channel failed: %s", exc.response.get("error"))

    async def _follow_up(self, session: AsyncSession, row: OutboxMessage, member: Member) -> None:
        """What the member and the channel hear once the member is in, keyed as they were before placement waited."""
        texts, channel, ref, reason = self.deps.texts, row.target, row.payload.get("ref"), row.payload.get("reason")
        profile = Profile.of(member)
        queued: list[Queued] = []
        if reason == "approved":
            if row.payload.get("greet"):
                greeting = approval_blocks.greeting(texts, user_id=member.user_id, profile=profile)
                queued.append((f"greeting:{member.id}:{ref}", "post", channel, greeting))
            dm = await _approved_dm(self.deps, profile.pref_code, channel)
            queued.append((f"approved-dm:{member.id}:{ref}", "dm", member.user_id, dm))
        elif reason == "transfer":
            key = "registration.transfer.greeting"
            greeting = approval_blocks.greeting(texts, user_id=member.user_id, profile=profile, key=key)
            queued.append((f"transfer-greeting:{member.id}:{ref}", "post", channel, greeting))
            dm = _transfer_dm(self.deps, member.pref_code, "done")
            queued.append((f"transfer-dm:{member.id}:{ref}", "dm", member.user_id, dm))
        elif reason == "late" and not await outbox.queued_to(
            session,
            team_id=member.team_id,
            target=channel,
            key_prefixes=tuple(f"{k}{member.id}:" for k in GREETING_KEYS),
        ):
            # Told before that the channel was being prepared (or that joining it was delayed): now it is theirs.
            greeting = approval_blocks.greeting(texts, user_id=member.user_id, profile=profile)
            ready = approval_blocks.channel_ready_dm(texts, pref_code=member.pref_code, channel_id=channel)
            queued.append((f"placed-greeting:{member.id}:{channel}", "post", channel, greeting))
            queued.append((f"placed-dm:{member.id}:{channel}", "dm", member.user_id, ready))
        await _queue_all(self.deps, session, team_id=member.team_id, messages=queued)

    async def failed(self, row: OutboxMessage, error: str) -> None:
        """Report it once to the admin channel with the fix; the member hears that joining is pending, no greeting."""
        member = await self._member(row)
        if member is None:
            return
        log.warning("placement %s failed: %s", row.id, error)
        self.deps.metrics.placements.labels(outcome="failed").inc()
        ref, reason = row.payload.get("ref"), row.payload.get("reason")
        queued: list[Queued] = []
        if admin := self.deps.settings.yakuba_admin_channel:
            report = prefecture_blocks.placement_report(
                self.deps.texts, user_id=member.user_id, channel_id=row.target, error=error
            )
            queued.append((f"placement-report:{member.id}:{row.id}", "post", admin, report))
        if reason == "approved":
            dm = await _approved_dm(self.deps, member.pref_code, row.target, pending=True)
            queued.append((f"approved-dm:{member.id}:{ref}", "dm", member.user_id, dm))
        elif reason == "transfer":
            dm = _transfer_dm(self.deps, member.pref_code, "pending")
            queued.append((f"transfer-dm:{member.id}:{ref}", "dm", member.user_id, dm))
        async with self.deps.db.write() as session:
            await _queue_all(self.deps, session, team_id=row.team_id, messages=queued)


# --- the backfill: `yakuba members sync` -------------------------------------------------------------


@dataclass
class SyncReport:
    pages: int = 0
    seen: int = 0
    added: int = 0
    changed: int = 0
    skipped: int = 0
    rate_waits: int = 0


async def _users_page(deps: Deps, cursor: str | None, limit: int, report: SyncReport) -> dict:
    """One users.list page. The client already retries 429s; if they run out, wait Retry-After and go on."""
    for _ in range(MAX_RATE_WAITS):
        try:
            return (await deps.client.users_list(limit=limit, cursor=cursor or None)).data
        except SlackApiError as exc:
            if exc.response.status_code != 429:
                raise
            report.rate_waits += 1
            await asyncio.sleep(float(exc.response.headers.get("Retry-After", "1") or 1))
    raise RuntimeError("users.list stayed rate-limited; try again later")


async def sync_members(
    deps: Deps, *, team_id: str, page_size: int = PAGE_SIZE, progress: Callable[[SyncReport], None] | None = None
) -> SyncReport:
    """Record everyone already in the workspace, page by page (memory stays one page), DMing no one."""
    report = SyncReport()
    cursor: str | None = None
    while True:
        page = await _users_page(deps, cursor, page_size, report)
        active: list[str] = []
        deleted: list[str] = []
        for user in page.get("members") or []:
            user_id = user.get("id") if isinstance(user, dict) else None
            if (
                not isinstance(user_id, str)
                or not USER_ID.match(user_id)
                or user_id == SLACKBOT
                or user.get("is_bot")
                or user.get("is_app_user")
            ):
                report.skipped += 1
                continue
            (deleted if user.get("deleted") else active).append(user_id)
        async with deps.db.write() as session:
            added, changed = await members.record_batch(
                session, team_id=team_id, active=active, deleted=deleted, now=deps.clock()
            )
        report.pages += 1
        report.seen += len(active) + len(deleted)
        report.added += added
        report.changed += changed
        if progress is not None:
            progress(report)
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return report
