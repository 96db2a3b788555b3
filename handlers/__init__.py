"""Every feature registers its listeners here; the catch-alls come last so features always win."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import (
    announcements,
    approvals,
    archives,
    directory,
    fallback,
    faq,
    home,
    leads,
    onboarding,
    prefectures,
    privacy,
    programs,
    registration,
    sections,
    yakuba,
)

FEATURES = (onboarding, registration, approvals, prefectures, leads, programs, announcements, sections, directory, home,
            privacy, yakuba, faq, archives)


def register_all(app: AsyncApp) -> None:
    for feature in FEATURES:
        feature.register(app)
    fallback.register(app)
