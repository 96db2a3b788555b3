"""Hostile text through every slash command that echoes its input: the echo is escaped, never a live token.

`<!channel>` must reach Slack as `&lt;!channel&gt;`: a reply that carries the input raw would ping the
channel, mention a user or group, or show a link disguised as a prefecture's name.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.texts import Texts
from bot.texts.markup import ELLIPSIS, Mrkdwn, clip, escape, safe, split
from storage.models import Section
from tests.announce_flow import all_prefecture_channels, announce
from tests.announce_flow import command as announce_command
from tests.conftest import SignedSlack
from tests.membership_flow import TEAM

HOSTILE = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0HOSTILE>",
    "<!subteam^S0HOSTILE|@all-staff>",
    "<https://evil.example|東京都>",
    "<#C0HOSTILE>",
    "Q&A <b>x</b>",
)
# An "&" that does not start one of the three entities: an entity cut in half, or an unescaped ampersand.
BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
# (command, text with {h} for the hostile string, who sends it, whether the reply quotes the input)
COMMANDS = (
    ("/announce", "{h} hello", "organizer", True),
    ("/ka", "join {h}", "member", True),
    ("/faq", "{h}", "member", True),
    ("/archive", "{h}", "member", True),
    ("/programs", "subscribe {h}", "member", True),
    ("/programs", "pause {h}", "organizer", True),
    ("/yakuba", "{h}", "member", True),
    ("/members", "{h}", "member", False),
    ("/kenjinkai", "{h}", "member", False),
    ("/mydata", "{h}", "member", False),
    ("/approvals", "{h}", "organizer", False),
    ("/register", "{h}", "member", False),
)


def strings(node: Any) -> list[str]:
    """Every string in a reply, where Slack would read mrkdwn or plain text."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in strings(value)]
    return []


async def reply_to(signed: SignedSlack, user: str, command: str, text: str) -> list[str]:
    """What reached Slack for one command: its ack, and every Web API call and response_url post after it."""
    signed.slack.clear_calls()
    response = await signed.command(user, command, text)
    assert response.status == 200, (command, text)
    body = await response.text()
    out = strings(json.loads(body)) if body.startswith("{") else []
    await signed.settle()
    for call in [*signed.slack.calls, *signed.slack.responses]:
        if call.method not in ("auth.test", "users.info", "conversations.info", "conversations.open"):
            out += strings(call.args)
    return out


def verdict(reply: list[str], hostile: str) -> str:
    """Whether the input (or a word of it: a command may quote only its first word) reached Slack "raw", as
    typed, or "escaped", quoted inertly; else "absent"."""
    words = [w for w in hostile.split() if any(c in w for c in "&<>")]
    if any(w in s for w in words for s in reply):
        return "raw"
    return "escaped" if any(escape(w) in s for w in words for s in reply) else "absent"


async def test_every_echo_of_hostile_text_is_escaped(signed, people):
    who = {"organizer": people.organizer, "member": people.member}
    raw, missing = [], []
    for command, template, sender, echoes in COMMANDS:
        for hostile in HOSTILE:
            text = template.format(h=hostile)
            seen = verdict(await reply_to(signed, who[sender], command, text), hostile)
            if seen == "raw":
                raw.append((command, text))
            elif echoes and seen != "escaped":
                missing.append((command, text))
    assert raw == [], raw
    # The commands that quote their input still do (escaped), so the check above is not vacuous.
    assert missing == [], missing


async def test_status_excerpt_is_clipped_before_it_is_escaped(signed, people):
    """An ordinary "&" near the excerpt's end shows as "&", never as a cut "&amp…"."""
    await all_prefecture_channels(signed)
    await announce(signed, people.organizer, "pref:13 " + "x" * 76 + "& <b> after")
    status = await announce_command(signed, people.organizer, "status")
    excerpt = next(
        line
        for block in status["blocks"]
        if block["type"] == "section"
        for line in block["text"]["text"].split("\n")
        if line.startswith("> x")
    )
    assert excerpt.endswith(ELLIPSIS) and len(excerpt) <= len("> ") + 80 + len("&amp;") * 2
    assert not BROKEN_ENTITY.search(excerpt), excerpt
    assert "x" * 76 in excerpt


async def test_a_long_section_description_never_leaves_an_empty_section(signed, people):
    """A 2,800-character description once produced a section with no text, which Slack refuses."""
    async with signed.yakuba.deps.db.write() as session:
        session.add(Section(team_id=TEAM, name="長文課", name_key="長文課", kind="work", description="説" * 2800))
        session.add(Section(team_id=TEAM, name="A&B <!here>", name_key="ab", kind="work", description="& " * 1500))
    body = json.loads(await (await signed.command(people.member, "/ka", "list")).text())
    sections = [b for b in body["blocks"] if b["type"] == "section"]
    assert all(0 < len(b["text"]["text"]) <= 3000 and b["text"]["text"].strip() for b in sections)
    shown = "\n".join(b["text"]["text"] for b in sections)
    assert "長文課" in shown and "A&amp;B &lt;!here&gt;" in shown and "<!here>" not in shown
    assert not BROKEN_ENTITY.search(shown)


def test_a_clip_never_cuts_an_entity_a_link_or_a_channel():
    for at in range(3000 - 40, 3000):
        for token in ("&amp;", "<https://example.jp/a|東京都の案内>", "<#C0123ABCD>", "<!channel>"):
            text = Mrkdwn("x" * at + token + "y" * 100)
            clipped = clip(text, 3000)
            assert len(clipped) <= 3000 and clipped.endswith(ELLIPSIS)
            assert token in clipped or clipped == "x" * at + ELLIPSIS, (at, token, clipped[-60:])
            pieces = split(text, 3000)
            assert "".join(pieces) == text and all(0 < len(p) <= 3000 for p in pieces)
            assert any(token in p for p in pieces), (at, token)


def test_the_catalogue_escapes_parameters_unless_marked_safe():
    texts = Texts("en")
    line = texts("sections.join.not_found", query="<!channel> & <@U1>")
    assert "<!channel>" not in line and "&lt;!channel&gt; &amp; &lt;@U1&gt;" in line
    assert "<#C1>" in texts("sections.join.already", name="x", channel=safe("<#C1>"))
    plain = texts.plain("sections.join.not_found", query="<!channel> & <@U1>")
    assert "<!channel> & <@U1>" in plain
