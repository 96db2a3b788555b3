"""Every organisers' verb a slash command declares is refused to a member with the line it declares, and no call
reaches Slack's write methods: the declarations in handlers/ are what guards, not a list kept elsewhere."""

from __future__ import annotations

import pytest

from bot.slack.slash import ANY
from handlers import COMMANDS

# A verb that only matches with the words after it (its listener's matcher asks for them).
WORDS = {("yakuba", "setup"): "setup prefectures"}
DECLARED = [(c, verb, key) for c in COMMANDS for verb, key in sorted(c.organisers.items())]


def test_every_command_declares_its_organisers_verbs_with_a_catalogue_line(signed):
    texts = signed.yakuba.deps.texts
    assert {(c.name, verb) for c, verb, _ in DECLARED} >= {
        ("approvals", ANY),
        ("faq", "add"),
        ("programs", "pause"),
        ("members", "export"),
        ("archive", "add"),
        ("yakuba", "lead"),
        ("yakuba", "setup"),
    }
    for _, _, key in DECLARED:
        assert texts(key) != key  # the catalogue has the line


@pytest.mark.parametrize(("command", "verb", "key"), DECLARED, ids=[f"{c.name}-{v}" for c, v, _ in DECLARED])
async def test_a_member_is_refused_every_declared_organisers_verb(signed, people, command, verb, key):
    text = "" if verb == ANY else WORDS.get((command.name, verb), verb)
    response = await signed.command(people.member, command.slash, text)
    assert response.status == 200
    body = await response.json()
    assert body["text"] == signed.yakuba.deps.texts(key)
    assert body["response_type"] == "ephemeral"
    written = [c for c in signed.slack.calls if c.method.split(".")[-1] not in ("info", "list", "test", "history")]
    assert written == []  # no form opened, nothing posted, nobody invited
