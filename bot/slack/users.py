"""Slack users: does one exist (the programme modal, imports), and their email for auto-approval."""

from __future__ import annotations

import asyncio
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


EMAIL_WAIT = 2.0  # the form's ack is waiting: without an answer in time, an organiser decides as usual


async def email_of(client: AsyncWebClient, user_id: str) -> str | None:
    """The member's Slack email (users:read.email), or None when Slack does not say in time."""
    try:
        answer = await asyncio.wait_for(client.users_info(user=user_id), EMAIL_WAIT)
    except (SlackApiError, TimeoutError) as exc:
        log.warning("users.info gave no email for auto-approval: %s", type(exc).__name__)
        return None
    user = answer.get("user") or {}
    email = (user.get("profile") or {}).get("email")
    return email if isinstance(email, str) and not user.get("deleted") else None
