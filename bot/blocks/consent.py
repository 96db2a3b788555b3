"""Consent history: the DM asking a member to agree to new terms, and what it becomes once they have."""

from __future__ import annotations

from typing import Any

from bot.blocks.common import actions, button, context, header, message, section
from bot.texts import Texts
from storage.community import Consent

AGREE = "consent.agree"  # the button's value is the version agreed to, so an old DM cannot agree to newer terms


def ask_dm(texts: Texts, *, consent: Consent, community: str) -> dict[str, Any]:
    body = texts("consent.dm.body", community=community, version=consent.version, url=consent.url)
    return message(
        texts("consent.dm.fallback", version=consent.version),
        [
            header(texts("consent.dm.title")),
            section(body),
            context(texts("consent.dm.statement", statement=consent.text(texts.lang))),
            actions(
                button(texts("consent.dm.agree"), AGREE, value=consent.version, style="primary"),
                block_id=f"consent:{consent.version}",
            ),
        ],
    )


def agreed_dm(texts: Texts, *, version: str) -> dict[str, Any]:
    text = texts("consent.dm.agreed", version=version)
    return message(text, [section(text)])
