"""Erasing a member (APPI): what `/mydata forget` and the nightly anonymisation job both do."""

from __future__ import annotations

from bot.slack.context import Deps
from storage import audit, intro, privacy, programs


async def forget_member(deps: Deps, *, team_id: str, user_id: str, actor: str | None = None) -> privacy.Forgotten:
    """Erase everywhere: the programmes feature's own data first, then ours in one transaction."""
    done = await programs.forget_member(db=deps.db, team_id=team_id, user_id=user_id)
    introductions = await forget_introductions(deps, team_id=team_id, user_id=user_id)
    subscriptions = done.subscriptions + done.personalities + introductions
    result = await privacy.forget(deps.db, team_id=team_id, user_id=user_id, tz=deps.settings.tz, actor=actor)
    if subscriptions and not result.anything:
        # Only programme data was left (e.g. an earlier erase was interrupted): still worth a record.
        async with deps.db.write() as session:
            audit.record(
                session,
                team_id=team_id,
                actor=actor or "self",
                action="privacy.forgotten",
                detail={"subscriptions": subscriptions},
            )
        return privacy.Forgotten("none", 0, 0, subscriptions)
    return result


async def forget_introductions(deps: Deps, *, team_id: str, user_id: str) -> int:
    """Introductions: the opt-in, the seats with their check-ins, the introductions and check-ins sent to them."""
    return await intro.forget(deps.db, team_id=team_id, user_id=user_id)
