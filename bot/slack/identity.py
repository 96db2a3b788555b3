"""Who we are in Slack (auth.test): asked at start, and asked again with a capped back-off while Slack is away.

Only Slack's definite "this token is no good" ends the process; anything else (refused connections,
timeouts, 5xx, rate limits) is waited out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from bot.config import OperatorError

log = logging.getLogger(__name__)

# auth.test's answers that no waiting will change: the operator must fix the token.
REFUSED = frozenset({"invalid_auth", "account_inactive", "token_revoked", "not_authed", "token_expired"})


class SlackAuthError(OperatorError):
    """Slack refused our token: a configuration mistake (exit status 2)."""

    exit_code = 2

    def __init__(self, error: str, variable: str = "SLACK_BOT_TOKEN") -> None:
        super().__init__("cli.slack.invalid_auth", error=error, variable=variable)


class SlackUnreachableError(OperatorError):
    """A one-shot command could not reach Slack (exit status 1: try again later)."""

    def __init__(self, why: str) -> None:
        super().__init__("cli.slack.unreachable", why=why)


@dataclass(frozen=True)
class Backoff:
    """Seconds between auth.test attempts: `initial`, doubling to `maximum`, plus up to `jitter` at random."""

    initial: float = 1.0
    maximum: float = 60.0
    jitter: float = 1.0


def refusal(exc: BaseException) -> str | None:
    """Slack's error code when `exc` says the token itself is refused, else None."""
    if isinstance(exc, SlackApiError):
        error = str(exc.response.get("error") or "")
        if error in REFUSED:
            return error
    return None


def transient(exc: BaseException) -> bool:
    """Worth asking again: Slack did not answer, or answered something other than a refusal of the token."""
    if isinstance(exc, SlackApiError):
        return refusal(exc) is None
    return isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError)


def why(exc: BaseException) -> str:
    """A short, secret-free reason for a log line: the error code or the exception type."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__


async def keep_trying(
    call: Callable[[], Awaitable[Any]],
    backoff: Backoff,
    *,
    variable: str = "SLACK_BOT_TOKEN",
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Any:
    """Call `call` (auth.test, Socket Mode's connect) until Slack answers; a refused token (the one in
    `variable`) raises SlackAuthError at once."""

    def waiting(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("Slack is unreachable (%s); asking again in %.1f s", why(exc) if exc else "?", wait)

    retrying = AsyncRetrying(
        wait=wait_exponential_jitter(multiplier=backoff.initial, max=backoff.maximum, jitter=backoff.jitter),
        retry=retry_if_exception(transient),
        before_sleep=waiting,
        sleep=sleep,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await call()
    except SlackApiError as exc:
        if (error := refusal(exc)) is not None:
            raise SlackAuthError(error, variable) from None
        raise
    raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover
