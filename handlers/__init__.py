"""Every feature registers its listeners here; the catch-alls come last so features always win."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import fallback, onboarding, yakuba

FEATURES = (onboarding, yakuba)


def register_all(app: AsyncApp) -> None:
    for feature in FEATURES:
        feature.register(app)
    fallback.register(app)
