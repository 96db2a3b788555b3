"""Every feature registers its listeners here; the catch-alls come last so features always win.

A feature answering a sub-command of a shared command (`/yakuba lead` in leads) registers before the
command's own catch-all handler (yakuba), with a matcher on its words."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.slash import SlashCommand
from handlers import (
    announcements,
    approvals,
    archives,
    consent,
    directory,
    disaster,
    events,
    fallback,
    faq,
    home,
    intro,
    leads,
    onboarding,
    prefectures,
    privacy,
    programs,
    registration,
    sections,
    yakuba,
)

FEATURES = (
    onboarding,
    registration,
    approvals,
    consent,
    disaster,
    prefectures,
    leads,
    programs,
    events,
    announcements,
    sections,
    directory,
    intro,
    home,
    privacy,
    yakuba,
    faq,
    archives,
)

# Every slash command of the contract, in the order members meet them (help and the manifest list them so).
COMMANDS: tuple[SlashCommand, ...] = (
    registration.COMMAND,
    faq.COMMAND,
    archives.COMMAND,
    programs.COMMAND,
    events.COMMAND,
    prefectures.COMMAND,
    sections.COMMAND,
    intro.COMMAND,
    directory.COMMAND,
    announcements.COMMAND,
    approvals.COMMAND,
    privacy.COMMAND,
    yakuba.COMMAND.joined(leads.VERB, prefectures.SETUP_VERB),
)


def register_all(app: AsyncApp) -> None:
    for feature in FEATURES:
        feature.register(app)
    fallback.register(app)
