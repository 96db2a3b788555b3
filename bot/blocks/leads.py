"""The organisers' form to appoint or release a prefecture lead (県人会の世話役)."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import plain
from bot.texts import Texts

LEAD_VIEW = "leads.submit"
USER_BLOCK, USER = "lead_user", "leads.user"
ROLE_BLOCK, ROLE = "lead_role", "leads.role"


def lead_modal(texts: Texts) -> dict[str, Any]:
    options = [{"text": plain(texts(f"leads.role.{value}")), "value": value} for value in ("appoint", "release")]
    return {
        "type": "modal",
        "callback_id": LEAD_VIEW,
        "title": plain(texts("leads.title")),
        "submit": plain(texts("leads.submit")),
        "close": plain(texts("leads.close")),
        "blocks": [
            {
                "type": "input",
                "block_id": USER_BLOCK,
                "label": plain(texts("leads.user")),
                "element": {"type": "users_select", "action_id": USER},
            },
            {
                "type": "input",
                "block_id": ROLE_BLOCK,
                "label": plain(texts("leads.role.label")),
                "element": {
                    "type": "radio_buttons",
                    "action_id": ROLE,
                    "options": options,
                    "initial_option": options[0],
                },
            },
        ],
    }
