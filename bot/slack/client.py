"""The one Slack Web API client: built from SLACK_API_URL, retrying 429 (Retry-After), 5xx and dropped connections.

Every call has a deadline, YAKUBA_SLACK_TIMEOUT seconds for the whole call (connect, send, answer): slack_sdk
applies its timeout only to sessions it opens itself, and a shared keep-alive session would otherwise wait
aiohttp's default of 300 s. A call past its deadline raises TimeoutError and is not retried here: a post may
have landed, so the senders that must not double (the outbox, the announcer) check its fate first.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.metrics import SlackCallObserver

# Slack errors that no retry will fix: senders record them as failed and move on.
PERMANENT_ERRORS = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "cant_invite",
        "cant_invite_self",
        "cant_update_message",
        "channel_not_found",
        "ekm_access_denied",
        "invalid_auth",
        "invalid_blocks",
        "invalid_blocks_format",
        "is_archived",
        "message_not_found",
        "missing_scope",
        "msg_too_long",
        "no_text",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "team_access_not_granted",
        "too_many_attachments",
        "user_disabled",
        "user_not_found",
    }
)


class AsyncAnyServerErrorRetryHandler(AsyncRetryHandler):
    """slack_sdk's own handler only retries 500 and 503; gateways answer 502 and 504 too."""

    async def _can_retry_async(self, *, state, request, response=None, error=None) -> bool:
        return response is not None and 500 <= response.status_code <= 599


def retry_handlers(observer: AsyncRetryHandler | None = None) -> list[AsyncRetryHandler]:
    """The retries every call gets; `observer` (counting calls for /metrics) goes first so it sees each one."""
    return [
        *([observer] if observer is not None else []),
        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        AsyncAnyServerErrorRetryHandler(max_retry_count=3),
        AsyncConnectionErrorRetryHandler(max_retry_count=3),
    ]


class SlackClient(AsyncWebClient):
    """slack_sdk's client with the deadline on each request, whichever session carries it."""

    async def _request(self, *, http_verb: str, api_url: str, req_args: dict) -> dict[str, Any]:
        req_args["timeout"] = deadline(self.timeout)
        return await super()._request(http_verb=http_verb, api_url=api_url, req_args=req_args)


def deadline(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


def open_session(client: AsyncWebClient) -> aiohttp.ClientSession:
    """A keep-alive session for `client` whose requests keep the client's deadline (bolt's per-request clients
    are plain AsyncWebClients sharing this session, and file uploads bypass the per-request one)."""
    return aiohttp.ClientSession(timeout=deadline(client.timeout))


def build_client(settings: Settings, *, observer: AsyncRetryHandler | None = None) -> SlackClient:
    return SlackClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        # Not int(): a sub-second timeout would become 0, which aiohttp reads as "no timeout at all".
        timeout=settings.yakuba_slack_timeout,  # type: ignore[arg-type]
        retry_handlers=retry_handlers(observer),
    )


def without_retries(client: AsyncWebClient) -> AsyncWebClient:
    """The same client (token, URL, session, call counting) answering after one attempt.

    For auth.test at start-up: its caller waits with a back-off of its own, capped at a minute, instead of
    the handlers' quick retries stacking under it.
    """
    return SlackClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        headers=client.headers,
        retry_handlers=[h for h in client.retry_handlers or [] if isinstance(h, SlackCallObserver)],
    )
