"""Text folding for Japanese search: width, case, kana, long vowels, punctuation and question endings.

Everything here is pure and fast (no dictionary): the same folding runs at index time and query time,
so ｱﾎﾟｲﾝﾄ, アポイント and あぽいんと meet, and so do ＡＢＣ and abc.
"""

from __future__ import annotations

import re
import unicodedata

import jaconv

_KATA_START, _KATA_END = 0x30A1, 0x30F6
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202f\ufeff]")
# Anything that is not a letter/number (any script) separates words; ー and 々 stay letters.
_SEPARATORS = re.compile(r"[^\w\u30fc\u3005]+|_+")
_LATIN = re.compile(r"^[a-z]+$")

# Chatty endings members add to a question: removed only at the very end, longest first.
_ENDINGS = sorted(
    {
        "について教えてください",
        "について教えて下さい",
        "について教えて",
        "について知りたい",
        "を教えてください",
        "を教えて下さい",
        "を教えて",
        "教えてください",
        "教えて下さい",
        "教えて",
        "を知りたいです",
        "を知りたい",
        "知りたいです",
        "知りたい",
        "はありますか",
        "ありますか",
        "はどうすればいいですか",
        "どうすればいいですか",
        "どうすればいい",
        "すればいいですか",
        "はどうなっていますか",
        "はどうなりますか",
        "どうなりますか",
        "はいつですか",
        "はどこですか",
        "はなんですか",
        "は何ですか",
        "何ですか",
        "なんですか",
        "でしょうか",
        "ですか",
        "ますか",
        "ですよね",
        "かな",
        "について",
        "とは",
        "って",
        "は",
        "をお願いします",
        "お願いします",
        "ください",
        "下さい",
        "でしたっけ",
        "だっけ",
        "けど",
    },
    key=len,
    reverse=True,
)

# Kana that only lengthen the vowel before them: dropped in the *loose* form used for readings,
# so ぼうさい, ボーサイ and "bosai" all become ぼさい.
_VOWEL_ROW = {}
for _row, _kana in {
    "a": "あかさたなはまやらわがざだばぱぁゃ",
    "i": "いきしちにひみりぎじぢびぴぃ",
    "u": "うくすつぬふむゆるぐずづぶぷぅゅ",
    "e": "えけせてねへめれげぜでべぺぇ",
    "o": "おこそとのほもよろをごぞどぼぽぉょ",
}.items():
    for _k in _kana:
        _VOWEL_ROW[_k] = _row
_LENGTHENERS = {"a": "あ", "i": "い", "u": "う", "e": "いえ", "o": "うお"}


def clean(text: str) -> str:
    """NFKC, no control characters, trimmed. Safe on any input, including None-like empties."""
    if not text:
        return ""
    return _CONTROL.sub(" ", unicodedata.normalize("NFKC", str(text))).strip()


_KATA_TO_HIRA = {c: c - 0x60 for c in range(_KATA_START, _KATA_END + 1)}


def kata_to_hira(text: str) -> str:
    return text.translate(_KATA_TO_HIRA)


def fold(text: str) -> str:
    """The searchable surface form: NFKC, lowercase, hiragana for katakana, no long-vowel mark."""
    text = kata_to_hira(clean(text).lower())
    return text.replace("ー", "").replace("〜", "").replace("~", " ")


def words(text: str) -> list[str]:
    """Folded text split on punctuation and spaces."""
    return [w for w in _SEPARATORS.split(fold(text)) if w]


_LONG = re.compile(
    "|".join(
        f"([{''.join(k for k, r in _VOWEL_ROW.items() if r == row)}])[{lengtheners}]"
        for row, lengtheners in _LENGTHENERS.items()
    )
)


def _first(m: re.Match) -> str:
    return next(g for g in m.groups() if g)


def loose(kana: str) -> str:
    """Drop vowel-lengthening kana and ー: the spelling-insensitive form of a reading."""
    return _LONG.sub(_first, kata_to_hira(kana).replace("ー", ""))


def romaji_to_hiragana(word: str) -> str | None:
    """`bousai` → ぼうさい; None when the word is not plausible romaji (e.g. `zoom`, `pdf`)."""
    if not _LATIN.match(word) or len(word) < 2:
        return None
    kana = jaconv.alphabet2kana(word)
    if any(c.isascii() for c in kana):
        return None
    if word.endswith("m"):  # alphabet2kana turns a final m into ん: zoom → ぞおん is not Japanese
        return None
    return kana


def strip_question(text: str) -> str:
    """Remove a trailing question ending (`は？`, `ですか`, `について教えて`…) and the punctuation."""
    text = clean(text)
    text = re.sub(r"[\s?？!！。、.,・…]+$", "", text)
    changed = True
    while changed and text:
        changed = False
        for end in _ENDINGS:
            if text.endswith(end) and len(text) > len(end) + 1:
                text = re.sub(r"[\s?？!！。、.,・…]+$", "", text[: -len(end)])
                changed = True
                break
    return text


def key(text: str) -> str:
    """Natural key of a question: two questions that differ only in folding are the same question."""
    return "".join(words(strip_question(text)))
