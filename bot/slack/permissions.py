"""Who may do what: organisers are YAKUBA_ORGANIZERS plus workspace admins and owners (asked of Slack).

The answer from users.info is cached briefly in `Deps.organizer_cache` (one cache per app, no module state), so a
burst of clicks costs one call while a demoted admin loses the right within a minute.
"""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError

from bot.slack.context import Deps

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


async def is_organizer(deps: Deps, user_id: str) -> bool:
    if not user_id:
        return False
    if deps.is_organizer(user_id):
        return True
    cache = deps.organizer_cache
    now = time.monotonic()
    hit = cache.get(user_id)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        user = (await deps.client.users_info(user=user_id)).get("user") or {}
    except SlackApiError as exc:
        log.warning("users.info failed while checking a permission: %s", exc.response.get("error"))
        return False
    allowed = bool(user.get("is_admin") or user.get("is_owner")) and not user.get("deleted")
    cache[user_id] = (now, allowed)
    return allowed
