"""/mydata forget: the confirmation an erase needs (danger button, with Slack's own confirm dialog), and what
the bot's own posts that showed an erased member say afterwards."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.blocks.common import actions, button, esc, message, plain, section
from bot.texts import Texts

FORGET_CONFIRM = "privacy.forget_confirm"
FORGET_CANCEL = "privacy.forget_cancel"


def forget_confirmation(texts: Texts, *, built_in: bool = True) -> dict[str, Any]:
    """What forget erases and keeps; a profile other than the built-in one reads it without the built-in
    community's words (organisation and title, the month one joined the city hall)."""
    dialog = {
        "title": plain(texts("privacy.forget.dialog_title")),
        "text": {"type": "plain_text", "text": texts("privacy.forget.dialog_text")},
        "confirm": plain(texts("privacy.forget.confirm_button")),
        "deny": plain(texts("privacy.forget.cancel_button")),
        "style": "danger",
    }
    return message(
        texts("privacy.forget.dialog_text"),
        [
            section(texts("privacy.forget.confirm" if built_in else "privacy.forget.confirm_neutral")),
            actions(
                button(
                    texts("privacy.forget.confirm_button"),
                    FORGET_CONFIRM,
                    value="forget",
                    style="danger",
                    confirm=dialog,
                ),
                button(texts("privacy.forget.cancel_button"), FORGET_CANCEL, value="cancel"),
            ),
        ],
    )


# Posts about the member alone (the approval card, greetings): nothing is left to say, so one neutral line.
_ABOUT_THEM = {
    "approval-card": "privacy.forgotten.card",
    "greeting": "privacy.forgotten.greeting",
    "transfer-greeting": "privacy.forgotten.greeting",
    "placed-greeting": "privacy.forgotten.greeting",
}


def _scrubbed(value: Any, swaps: list[tuple[str | re.Pattern[str], str]]) -> Any:
    if isinstance(value, str):
        for old, new in swaps:
            plain_new = new.replace("\\", "\\\\")  # a replacement template: no backslash escapes
            value = old.sub(plain_new, value) if isinstance(old, re.Pattern) else value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_scrubbed(v, swaps) for v in value]
    if isinstance(value, dict):
        return {k: _scrubbed(v, swaps) for k, v in value.items()}
    return value


def neutral_post(
    texts: Texts, key: str, payload: dict[str, Any], user_id: str, shown: Iterable[str | None]
) -> tuple[dict[str, Any], bool]:
    """A post of ours rewritten without the erased member: (payload, still worth sending if not sent yet).

    A post about others too (a forwarded question, a nudge listing several requests) keeps everything
    else: the member's mention and what `shown` lists (name, department, title) become the neutral label.
    """
    about = _ABOUT_THEM.get(key.split(":", 1)[0])
    if about is not None:
        return message(texts(about), [section(texts(about))]), False
    label = texts("privacy.forgotten.member")
    swaps: list[tuple[str | re.Pattern[str], str]] = [(f"<@{user_id}>", label)]
    for value in shown:
        # Two characters at least: a one-letter "name" would blank that letter everywhere in the post.
        if value and len(value.strip()) >= 2:
            swaps += [(esc(value), label), (value, label)]
    # A bare id (a link, a value) only as a whole word: U0AB1 must not eat into U0AB12, someone else.
    swaps.append((re.compile(rf"(?<![A-Za-z0-9]){re.escape(user_id)}(?![A-Za-z0-9])"), label))
    return _scrubbed(payload, swaps), True
