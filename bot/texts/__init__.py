"""The text catalogue: every word the bot says, Japanese first, English complete.

Texts live in `bot/texts/<lang>/<feature>.yaml`; a key is `<feature>.<path.in.file>`. Organisers can
edit wording without touching code. Parameters use `{name}`. Templates are mrkdwn: every parameter is
escaped (bot/texts/markup.py) unless it is `Mrkdwn` already, so a caller cannot forget; `texts.plain` is
the same catalogue for places that are not mrkdwn (the CLI's lines).
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

import yaml

from bot.texts.markup import Mrkdwn, escape, unescape

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
    """`texts("onboarding.welcome.title", name=...)` in one language; `texts.lang` says which.

    The answer is `Mrkdwn` with every parameter escaped unless it was `Mrkdwn` (or a number) already.
    """

    def __init__(self, lang: str = DEFAULT_LANG, *, markup: bool = True) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANG
        self.markup = markup
        self._catalogue = catalogue(self.lang)

    def __call__(self, key: str, /, **params: object) -> str:
        template = self._catalogue.get(key)
        if template is None:
            # A missing key is a bug the catalogue test catches; never show users a traceback.
            return Mrkdwn(key) if self.markup else key
        if not self.markup:
            # Plain output (a terminal): fragments built as mrkdwn come back to the characters they stand for.
            return template.format(**{k: unescape(v) if isinstance(v, Mrkdwn) else v for k, v in params.items()})
        if not params:
            return Mrkdwn(template)
        return Mrkdwn(template.format(**{k: _param(v) for k, v in params.items()}))

    @property
    def plain(self) -> Texts:
        """The same language without escaping, for text that never reaches mrkdwn (CLI output)."""
        return Texts(self.lang, markup=False) if self.markup else self

    def has(self, key: str) -> bool:
        return key in self._catalogue

    def other(self, lang: str) -> Texts:
        return self if lang == self.lang else Texts(lang, markup=self.markup)


def _param(value: object) -> object:
    if isinstance(value, Mrkdwn | int | float):
        return value
    return escape(value)
