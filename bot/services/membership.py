"""Membership service shared by registration, approval and leaving: profile saves, decisions, placement;
and the backfill of everyone already in the workspace (`yakuba members sync`).

Every state change and the messages it owes (card, DMs, greeting) commit in one transaction through the
outbox; channel moves (invite/kick) follow the commit and are idempotent, so a retry never doubles them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.blocks import approvals as approval_blocks
from bot.slack.context import Deps
from storage import approvals, audit, members, outbox, prefectures
from storage.data import prefecture
from storage.members import Profile
from storage.models import ApprovalRequest, Member

log = logging.getLogger(__name__)

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
SLACKBOT = "USLACKBOT"
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
    outcome: str  # submitted | pending_updated | reapproval | updated | transferred
    member_id: int
    request_id: int | None = None
    old_pref: str | None = None


async def _queue_card(
    deps: Deps, session: AsyncSession, *, team_id: str, request: ApprovalRequest, profile: Profile
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
    )
    await outbox.enqueue(
        session, team_id=team_id, key=card_key(request.id), kind="post", target=channel, payload=payload
    )


async def save_profile(deps: Deps, *, team_id: str, user_id: str, profile: Profile) -> Saved:
    """Store a submitted form and decide what it means (new application, edit, re-approval, transfer)."""
    texts, now = deps.texts, deps.clock()
    async with deps.db.write() as session:
        member = await members.by_user(session, team_id=team_id, user_id=user_id)
        if member is None or member.left_at is not None:
            member = await members.join(session, team_id=team_id, user_id=user_id)
        old = Profile.of(member)
        status = member.status
        members.apply_profile(member, profile, now=now)
        if status == "approved":
            if needs_reapproval(deps.settings.yakuba_reapprove_on, old, profile):
                member.status = "pending"
                request, _ = await approvals.open_request(
                    session, team_id=team_id, user_id=user_id, kind="reapproval", now=now
                )
                await _queue_card(deps, session, team_id=team_id, request=request, profile=profile)
                audit.record(
                    session,
                    team_id=team_id,
                    actor=user_id,
                    action="registration.resubmitted",
                    subject=user_id,
                    detail={"request": request.id},
                )
                return Saved("reapproval", member.id, request.id, old.pref_code)
            if old.pref_code == profile.pref_code:
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
                await _queue_card(deps, session, team_id=team_id, request=request, profile=profile)
            return Saved("pending_updated", member.id, request.id)
        member.status, member.registered_at, member.rejected_reason = "pending", now, None
        request, _ = await approvals.open_request(session, team_id=team_id, user_id=user_id, kind="new", now=now)
        await _queue_card(deps, session, team_id=team_id, request=request, profile=profile)
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
    profile = Profile.of(member)
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    channel = await prefectures.channel_in(session, team_id=team_id, pref_code=profile.pref_code)
    if channel is not None:
        payload = approval_blocks.greeting(
            deps.texts, user_id=member.user_id, profile=profile, key="registration.transfer.greeting"
        )
        await outbox.enqueue(
            session,
            team_id=team_id,
            key=f"transfer-greeting:{member.id}:{stamp}",
            kind="post",
            target=channel.channel_id,
            payload=payload,
        )
    pref = prefecture(profile.pref_code)
    await outbox.enqueue(
        session,
        team_id=team_id,
        key=f"transfer-dm:{member.id}:{stamp}",
        kind="dm",
        target=member.user_id,
        payload={"text": deps.texts("registration.transfer.done", prefecture=pref.name if pref else "")},
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
        profile = Profile.of(member)
        if status == "approved":
            member.status, member.approved_at, member.approved_by = "approved", now, by
            channel = await prefectures.channel_in(session, team_id=team_id, pref_code=member.pref_code)
            if channel is not None and member.placed_pref_code != member.pref_code:
                await outbox.enqueue(
                    session,
                    team_id=team_id,
                    key=f"greeting:{member.id}:{request_id}",
                    kind="post",
                    target=channel.channel_id,
                    payload=approval_blocks.greeting(texts, user_id=member.user_id, profile=profile),
                )
            dm = approval_blocks.approved_dm(
                texts,
                community=deps.settings.yakuba_community_name,
                pref_code=profile.pref_code,
                channel_id=channel.channel_id if channel else None,
                broadcast_channel=deps.settings.yakuba_broadcast_channel,
            )
            await outbox.enqueue(
                session,
                team_id=team_id,
                key=f"approved-dm:{member.id}:{request_id}",
                kind="dm",
                target=member.user_id,
                payload=dm,
            )
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
    )
    try:
        await deps.client.chat_update(channel=sent.channel, ts=sent.ts, **payload)
    except SlackApiError as exc:
        log.warning("approval card %s not updated: %s", request.id, exc.response.get("error"))


GREETING_KEYS = ("greeting:", "transfer-greeting:", "placed-greeting:")


async def place_late(deps: Deps, *, team_id: str, user_id: str) -> str | None:
    """Place a member whose 県人会 channel did not exist when they were approved (or moved), as approval does.

    They were told it was being prepared; now they get what every approved member gets: the greeting in the
    channel and a DM with the link. Keyed by member and channel, so running set-up again sends nothing more;
    a member greeted in this channel before (who left it and is invited back) is not greeted again.
    """
    texts = deps.texts
    async with deps.db.write() as session:
        member = await members.by_user(session, team_id=team_id, user_id=user_id)
        if member is None or member.status != "approved" or member.left_at is not None or not member.pref_code:
            return None
        channel = await prefectures.channel_in(session, team_id=team_id, pref_code=member.pref_code)
        if channel is None:
            return None
        greeted = await outbox.queued_to(
            session,
            team_id=team_id,
            target=channel.channel_id,
            key_prefixes=tuple(f"{k}{member.id}:" for k in GREETING_KEYS),
        )
        if not greeted:
            profile = Profile.of(member)
            await outbox.enqueue(
                session,
                team_id=team_id,
                key=f"placed-greeting:{member.id}:{channel.channel_id}",
                kind="post",
                target=channel.channel_id,
                payload=approval_blocks.greeting(texts, user_id=member.user_id, profile=profile),
            )
            await outbox.enqueue(
                session,
                team_id=team_id,
                key=f"placed-dm:{member.id}:{channel.channel_id}",
                kind="dm",
                target=member.user_id,
                payload=approval_blocks.channel_ready_dm(
                    texts, pref_code=member.pref_code, channel_id=channel.channel_id
                ),
            )
    placed = await place(deps, team_id=team_id, user_id=user_id)
    deps.outbox.kick()
    return placed


async def place(deps: Deps, *, team_id: str, user_id: str) -> str | None:
    """Put an approved member in their prefecture's channel and out of the previous one (one per member)."""
    member = await members.get(deps.db, team_id=team_id, user_id=user_id)
    if member is None or member.status != "approved" or member.left_at is not None or not member.pref_code:
        return None
    target = await prefectures.channel_for(deps.db, team_id=team_id, pref_code=member.pref_code)
    placements = deps.metrics.placements
    if target is not None:
        try:
            await deps.client.conversations_invite(channel=target.channel_id, users=user_id)
        except SlackApiError as exc:
            if exc.response.get("error") != "already_in_channel":
                log.warning("invite to prefecture channel failed: %s", exc.response.get("error"))
                placements.labels(outcome="failed").inc()
                return None
    old = member.placed_pref_code
    if old and old != member.pref_code:
        previous = await prefectures.channel_for(deps.db, team_id=team_id, pref_code=old)
        if previous is not None:
            try:
                await deps.client.conversations_kick(channel=previous.channel_id, user=user_id)
            except SlackApiError as exc:
                if exc.response.get("error") != "not_in_channel":
                    log.warning("removal from the old prefecture channel failed: %s", exc.response.get("error"))
    await members.set_placed(deps.db, member_id=member.id, pref_code=member.pref_code if target else None)
    # "waiting": approved before their prefecture had a channel; `setup prefectures` places them later.
    placements.labels(outcome="placed" if target else "waiting").inc()
    return target.channel_id if target else None


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
