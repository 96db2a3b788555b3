"""Erasing a member (APPI): what `/mydata forget` and the nightly anonymisation job both do."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from slack_sdk.errors import SlackApiError

from bot.blocks.privacy import neutral_post
from bot.config import Settings
from bot.slack.context import Deps
from storage import audit, disaster, intro, privacy, programs

log = logging.getLogger(__name__)

_PURPOSE = b"yakuba/forget/v1"


def pseudonymiser(settings: Settings) -> privacy.Pseudonym:
    """HMAC-SHA256 of a Slack id (or DM channel id) under a key derived from SLACK_SIGNING_SECRET.

    Why the signing secret and not a salt stored in the database: a salt travels with every dump and
    backup of the database, and anyone holding both could hash the workspace's (not secret) member ids
    and find who a tombstone was. The signing secret lives only in the environment. Without it (a CLI run
    with no secret) the key is random for this erase: the tokens are then unlinkable, which costs nothing —
    they only keep rows unique, nothing ever looks them up.
    """
    secret = (settings.slack_signing_secret or "").encode() or secrets.token_bytes(32)
    key = hmac.new(secret, _PURPOSE, hashlib.sha256).digest()

    def token(value: str) -> str:
        return "h-" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:24]

    return token


async def _dm_of(deps: Deps, team_id: str, user_id: str) -> set[str]:
    """The DM channel with the member. Slack is asked only when no send of ours recorded it: they may have
    asked the bot by DM before we ever sent them anything (a DM channel per member and bot never changes)."""
    if known := await privacy.known_dms(deps.db, team_id=team_id, user_id=user_id):
        return known
    try:
        opened = await deps.client.conversations_open(users=user_id, return_im=False)
    except SlackApiError as exc:
        log.warning("DM channel of an erased member not found: %s", exc.response.get("error"))
        return set()
    except Exception as exc:  # noqa: BLE001 - Slack away: the DM ids our sends recorded still go
        log.warning("DM channel of an erased member not found: %s", type(exc).__name__)
        return set()
    channel = (opened.get("channel") or {}).get("id")
    return {channel} if isinstance(channel, str) and channel else set()


async def forget_member(deps: Deps, *, team_id: str, user_id: str, actor: str | None = None) -> privacy.Forgotten:
    """Erase everywhere: the programmes feature's own data first, then ours in one transaction."""
    done = await programs.forget_member(db=deps.db, team_id=team_id, user_id=user_id)
    introductions = await forget_introductions(deps, team_id=team_id, user_id=user_id)
    checkins = await forget_checkins(deps, team_id=team_id, user_id=user_id)
    subscriptions = done.subscriptions + done.personalities + introductions + checkins
    result = await privacy.forget(
        deps.db,
        team_id=team_id,
        user_id=user_id,
        tz=deps.settings.tz,
        actor=actor,
        dms=await _dm_of(deps, team_id, user_id),
        pseudonym=pseudonymiser(deps.settings),
        neutral=lambda key, payload, p: neutral_post(
            deps.texts, key, payload, p.user_id, (p.name, p.department, p.title)
        ),
    )
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
        result = privacy.Forgotten("none", 0, 0, subscriptions)
    await deps.db.checkpoint()
    deps.outbox.kick()  # the chat.update of our posts that showed them
    return result


async def forget_checkins(deps: Deps, *, team_id: str, user_id: str) -> int:
    """Disaster check-ins: the member's answers; the posts they counted in are recounted without them."""
    erased = await disaster.forget(deps.db, team_id=team_id, user_id=user_id)
    if erased:
        for checkin_id in await disaster.behind(deps.db, team_id=team_id):
            deps.checkins.kick(checkin_id)
    return erased


async def forget_introductions(deps: Deps, *, team_id: str, user_id: str) -> int:
    """Introductions: the opt-in, the seats with their check-ins, the introductions and check-ins sent to them."""
    return await intro.forget(deps.db, team_id=team_id, user_id=user_id)
