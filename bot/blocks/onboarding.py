"""The welcome DM a new member gets on joining the workspace."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import actions, button, context, esc, header, message, section
from bot.texts import Texts
from storage.community import Features

# Shared with handlers/registration.py, which opens the form when this button is pressed.
OPEN_REGISTRATION = "onboarding.open_registration"


def welcome_message(
    texts: Texts, *, community: str, intro: str | None = None, features: Features | None = None
) -> dict[str, Any]:
    """The welcome DM; a community profile gives its own `intro` and may switch prefecture channels or sections off."""
    features = features or Features()
    keys = ["onboarding.welcome.step1"]
    if features.prefecture_channels:
        keys.append("onboarding.welcome.step2")
    if features.prefecture_channels and features.sections:
        keys.append("onboarding.welcome.step3")
    steps = "\n".join(texts(key) for key in keys)
    if len(keys) < 3:
        steps += "\n" + texts("onboarding.welcome.step_look", n=len(keys) + 1)
    return message(
        texts("onboarding.welcome.fallback", community=community),
        [
            header(texts("onboarding.welcome.title", community=community)),
            section(esc(intro) if intro else texts("onboarding.welcome.intro")),
            section(steps),
            actions(button(texts("onboarding.welcome.register"), OPEN_REGISTRATION, value="register", style="primary")),
            context(texts("onboarding.welcome.footer")),
        ],
    )
