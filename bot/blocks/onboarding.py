"""The welcome DM a new member gets on joining the workspace."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import actions, button, context, esc, header, message, section
from bot.texts import Texts
from storage.community import CommunityProfile

# Shared with handlers/registration.py, which opens the form when this button is pressed.
OPEN_REGISTRATION = "onboarding.open_registration"
# The features a neutral welcome's "look around" step names when the profile keeps them on, in this order.
LOOK = ("sections", "programs")


def welcome_message(texts: Texts, *, community: str, profile: CommunityProfile | None = None) -> dict[str, Any]:
    """The welcome DM. The built-in profile (or none) keeps オンライン市役所's three steps word for word; any other
    profile gets its own welcome text and neutral steps that name only the features it keeps on."""
    if profile is None or profile.is_built_in:
        fallback = texts("onboarding.welcome.fallback", community=community)
        intro = texts("onboarding.welcome.intro")
        steps = [texts(f"onboarding.welcome.step{n}") for n in (1, 2, 3)]
    else:
        features = profile.features
        steps = [texts("onboarding.welcome.step_register")]
        if features.prefecture_channels:
            steps.append(texts("onboarding.welcome.step2"))
        look = [texts("onboarding.welcome.look.start", n=len(steps) + 1)]
        look += [texts(f"onboarding.welcome.look.{name}") for name in LOOK if getattr(features, name)]
        steps.append("".join(look))
        fallback = texts("onboarding.welcome.fallback_steps", community=community, n=len(steps))
        intro = esc(profile.welcome(texts.lang))
    return message(
        fallback,
        [
            header(texts("onboarding.welcome.title", community=community)),
            section(intro),
            section("\n".join(steps)),
            actions(button(texts("onboarding.welcome.register"), OPEN_REGISTRATION, value="register", style="primary")),
            context(texts("onboarding.welcome.footer")),
        ],
    )
