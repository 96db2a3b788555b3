"""The text catalogue: Japanese and English complete and parallel; no Japanese literal outside it."""

from __future__ import annotations

import re
from pathlib import Path

from bot.texts import LANGUAGES, Texts, catalogue, placeholders

ROOT = Path(__file__).resolve().parent.parent
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_every_key_exists_in_every_language():
    keys = {lang: set(catalogue(lang)) for lang in LANGUAGES}
    for lang in LANGUAGES:
        for other in LANGUAGES:
            missing = sorted(keys[other] - keys[lang])
            assert not missing, f"{lang} lacks {missing[:10]}"


def test_placeholders_match_between_languages():
    ja, en = catalogue("ja"), catalogue("en")
    for key, template in ja.items():
        assert placeholders(template) == placeholders(en[key]), key


def test_every_template_formats_with_its_placeholders():
    for lang in LANGUAGES:
        texts = Texts(lang)
        for key, template in catalogue(lang).items():
            texts(key, **dict.fromkeys(placeholders(template), "x"))


def test_missing_key_is_shown_as_the_key_not_a_traceback():
    assert Texts("ja")("no.such.key") == "no.such.key"


def test_no_japanese_literals_in_handlers_or_blocks():
    offenders = []
    for folder in ("handlers", "bot/blocks", "bot/services", "bot/slack"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if JAPANESE.search(code) and '"""' not in line:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders


def test_no_key_is_written_twice_in_a_catalogue_file():
    """YAML silently keeps the last of two equal keys: a second `title:` would overwrite the first."""
    import yaml

    class Strict(yaml.SafeLoader):
        pass

    def no_duplicates(loader, node, deep=False):
        keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
        duplicated = {k for k in keys if keys.count(k) > 1}
        assert not duplicated, f"{node.start_mark}: {sorted(duplicated)}"
        return loader.construct_mapping(node, deep)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, no_duplicates)
    for path in sorted((ROOT / "bot" / "texts").rglob("*.yaml")):
        yaml.load(path.read_text("utf-8"), Loader=Strict)
