"""The text catalogue: every word the bot says, Japanese first, English complete.

Texts live in `bot/texts/<lang>/<feature>.yaml`; a key is `<feature>.<path.in.file>`. Organisers can
edit wording without touching code. Parameters use `{name}`; callers escape user text for mrkdwn.
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

import yaml

LANGUAGES = ("ja", "en")
DEFAULT_LANG = "ja"


def _flatten(prefix: str, node: object, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = str(node)


@cache
def catalogue(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}")
    out: dict[str, str] = {}
    folder = resources.files(__package__) / lang
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            _flatten(entry.name.removesuffix(".yaml"), yaml.safe_load(entry.read_text("utf-8")), out)
    return out


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Texts:
    """`texts("onboarding.welcome.title", name=...)` in one language; `texts.lang` says which."""

    def __init__(self, lang: str = DEFAULT_LANG) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANG
        self._catalogue = catalogue(self.lang)

    def __call__(self, key: str, /, **params: object) -> str:
        template = self._catalogue.get(key)
        if template is None:
            # A missing key is a bug the catalogue test catches; never show users a traceback.
            return key
        return template.format(**params) if params else template

    def has(self, key: str) -> bool:
        return key in self._catalogue

    def other(self, lang: str) -> Texts:
        return self if lang == self.lang else Texts(lang)
