"""Does a Slack user exist? The check behind "unknown user" in the programme modal and imports."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from storage.program_checks import UserCheck

log = logging.getLogger(__name__)
MISSING = frozenset({"user_not_found", "users_not_found", "invalid_user_id"})


def user_checker(client: AsyncWebClient) -> UserCheck:
    """users.info: unknown or deactivated ids are refused; other Slack errors do not block the organiser."""

    async def exists(user_id: str) -> bool:
        try:
            user = (await client.users_info(user=user_id)).get("user") or {}
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in MISSING:
                return False
            log.warning("users.info failed while checking a user id: %s", error)
            return True
        return not user.get("deleted")

    return exists
