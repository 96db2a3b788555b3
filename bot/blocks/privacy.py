"""/mydata forget: the confirmation an erase needs (danger button, with Slack's own confirm dialog)."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import actions, button, message, plain, section
from bot.texts import Texts

FORGET_CONFIRM = "privacy.forget_confirm"
FORGET_CANCEL = "privacy.forget_cancel"


def forget_confirmation(texts: Texts) -> dict[str, Any]:
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
            section(texts("privacy.forget.confirm")),
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
