"""The welcome DM a new member gets on joining the workspace."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import actions, button, context, header, message, section
from bot.texts import Texts

# Shared with handlers/registration.py, which opens the form when this button is pressed.
OPEN_REGISTRATION = "onboarding.open_registration"


def welcome_message(texts: Texts, *, community: str) -> dict[str, Any]:
    steps = "\n".join(texts(f"onboarding.welcome.step{i}") for i in (1, 2, 3))
    return message(
        texts("onboarding.welcome.fallback", community=community),
        [
            header(texts("onboarding.welcome.title", community=community)),
            section(texts("onboarding.welcome.intro")),
            section(steps),
            actions(button(texts("onboarding.welcome.register"), OPEN_REGISTRATION, value="register", style="primary")),
            context(texts("onboarding.welcome.footer")),
        ],
    )
