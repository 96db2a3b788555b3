"""/kenjinkai (the member's prefecture association), the set-up report of the 47 channels, placement reports."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import context, esc, header, message, safe, section
from bot.texts import Texts
from storage.data import prefecture
from storage.members import Association


def association_message(
    texts: Texts, *, pref_code: str, channel_id: str | None, figures: Association
) -> dict[str, Any]:
    pref = prefecture(pref_code)
    name = pref.name if pref else pref_code
    channel = safe(f"<#{esc(channel_id)}>") if channel_id else texts("prefectures.kenjinkai.no_channel")
    leads = safe(", ".join(f"<@{esc(user)}>" for user in figures.leads))
    fields = [
        texts("prefectures.kenjinkai.channel", channel=channel),
        texts("prefectures.kenjinkai.members", count=figures.members),
        texts("prefectures.kenjinkai.governments", count=figures.governments),
        texts("prefectures.kenjinkai.leads", leads=leads) if leads else texts("prefectures.kenjinkai.no_leads"),
    ]
    title = texts("prefectures.kenjinkai.title", prefecture=name)
    return message(
        title,
        [
            header(title),
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
            context(texts("prefectures.kenjinkai.footer")),
        ],
    )


def setup_report(
    texts: Texts, *, created: int, linked: int, unchanged: int, failures: list[tuple[str, str]]
) -> dict[str, Any]:
    text = texts("prefectures.setup.report", created=created, linked=linked, unchanged=unchanged, failed=len(failures))
    blocks = [section(text)]
    if failures:
        lines = [texts("prefectures.setup.failed_line", name=name, error=error) for name, error in failures]
        blocks.append(section("\n".join(lines[:40])))
    return message(text, blocks)


# Slack errors a placement report has a specific fix for; any other gets the general one.
PLACEMENT_FIXES = frozenset(
    {"is_archived", "channel_not_found", "not_in_channel", "missing_scope", "restricted_action"}
)


def placement_report(texts: Texts, *, user_id: str, channel_id: str, error: str) -> dict[str, Any]:
    """To the admin channel: a member could not be put in their 県人会 channel, and the one thing to do about it."""
    fix = texts(f"prefectures.placement.fix.{error if error in PLACEMENT_FIXES else 'other'}")
    text = texts("prefectures.placement.failed", user=user_id, channel=channel_id, error=esc(error), fix=fix)
    return message(text, [section(text)])
