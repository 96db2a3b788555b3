"""Approval requests: a registration waits here until one organiser decides it, exactly once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ApprovalRequest, AuditEntry, Member


async def open_request(
    session: AsyncSession, *, team_id: str, user_id: str, kind: str, now: datetime
) -> tuple[ApprovalRequest, bool]:
    """The member's pending request, or a new one. Returns (request, created)."""
    existing = await pending_for(session, team_id=team_id, user_id=user_id)
    if existing is not None:
        return existing, False
    request = ApprovalRequest(team_id=team_id, user_id=user_id, kind=kind, status="pending", submitted_at=now)
    session.add(request)
    await session.flush()
    return request, True


async def pending_for(session: AsyncSession, *, team_id: str, user_id: str) -> ApprovalRequest | None:
    return await session.scalar(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.team_id == team_id, ApprovalRequest.user_id == user_id, ApprovalRequest.status == "pending"
        )
        .order_by(ApprovalRequest.id.desc())
        .limit(1)
    )


async def decide(
    session: AsyncSession,
    *,
    request_id: int,
    team_id: str,
    status: str,
    by: str,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """Atomically move a pending request to `status`; False when someone else decided first."""
    if status not in ("approved", "rejected", "withdrawn"):
        raise ValueError(f"unknown decision {status!r}")
    result = await session.execute(
        update(ApprovalRequest)
        .where(
            ApprovalRequest.id == request_id, ApprovalRequest.team_id == team_id, ApprovalRequest.status == "pending"
        )
        .values(status=status, decided_at=now, decided_by=by, reason=reason)
    )
    return result.rowcount == 1


async def get(db: Database, *, team_id: str, request_id: int) -> ApprovalRequest | None:
    async with db.read() as session:
        return await session.scalar(
            select(ApprovalRequest).where(ApprovalRequest.id == request_id, ApprovalRequest.team_id == team_id)
        )


async def pending(
    db: Database, *, team_id: str, submitted_before: datetime | None = None, limit: int = 50
) -> list[tuple[ApprovalRequest, Member]]:
    """Pending requests, oldest first, with their member (left members are not waited for)."""
    query = (
        select(ApprovalRequest, Member)
        .join(Member, (Member.team_id == ApprovalRequest.team_id) & (Member.user_id == ApprovalRequest.user_id))
        .where(ApprovalRequest.team_id == team_id, ApprovalRequest.status == "pending", Member.left_at.is_(None))
        .order_by(ApprovalRequest.submitted_at, ApprovalRequest.id)
        .limit(limit)
    )
    if submitted_before is not None:
        query = query.where(ApprovalRequest.submitted_at < submitted_before)
    async with db.read() as session:
        return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def auto_approved(
    db: Database, *, team_id: str, start: datetime, end: datetime, limit: int = 500
) -> list[tuple[Member, str | None]]:
    """Members approved by a profile rule in (start, end], oldest first, each with the domain that approved them.

    The rule comes from the audit entry written with the approval (the email that matched is never stored).
    """
    async with db.read() as session:
        rows = list(
            await session.scalars(
                select(Member)
                .where(
                    Member.team_id == team_id,
                    Member.approved_by == "auto",
                    Member.status == "approved",
                    Member.approved_at > start,
                    Member.approved_at <= end,
                )
                .order_by(Member.approved_at, Member.id)
                .limit(limit)
            )
        )
        rules: dict[str, str | None] = {}
        if rows:
            entries = await session.scalars(
                select(AuditEntry)
                .where(
                    AuditEntry.team_id == team_id,
                    AuditEntry.action == "registration.auto_approved",
                    AuditEntry.subject.in_([m.user_id for m in rows]),
                )
                .order_by(AuditEntry.id)
            )
            for entry in entries:  # the latest approval of a member wins
                rule = (entry.detail or {}).get("rule")
                rules[entry.subject or ""] = rule if isinstance(rule, str) else None
        return [(member, rules.get(member.user_id)) for member in rows]
