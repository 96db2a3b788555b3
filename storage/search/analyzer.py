"""Turns text into index tokens: surface bigrams, reading bigrams and Sudachi synonym groups.

Readings and synonyms come from SudachiPy with the `sudachidict-small` dictionary, which ships inside
its wheel (about 110 MB installed, nothing downloaded at run time, ~0.1 ms to analyse a 130-character
FAQ entry, 0.06 s to open). Sudachi gives context-aware readings (防災 → ぼうさい, 保管 → ほかん), a
normalised form (引越し → 引っ越し) and, for many words, *synonym group ids* from the Sudachi synonym
dictionary: 保管 ~ 保存, 廃棄 ~ 捨てる, 引っ越し ~ 転居, キャンセル ~ 取り消し, 申込 ~ 申し込み share a group.
Indexing those ids as tokens gives paraphrase matching with no hand-written list. It does not know
everything (在宅勤務 and テレワーク share no group), which is what per-entry aliases are for.

Question-side text also gets pykakasi's readings of its kanji words where they differ (a second
opinion: Sudachi reads 県人会 けんにんかい, pykakasi けんじんかい). pykakasi is 9.6 MB installed, takes
~3 s to load its dictionary on first use (index time only) and is cached per kanji word.

Measured on tests/data/faq_eval (156 member-style queries): surface bigrams + readings + synonym
groups + aliases give top-1 96 %, top-3 99 %; the synonym groups alone fix the 引っ越し/転居 and
廃棄/捨てる style paraphrases at no query-time cost (they are ordinary FTS tokens).

The synonym groups also come from `sudachidict-core` (193 MB installed, 0.13 s to open, about 0.04 ms
per query at the median and 0.3 ms at p95): its compounds carry groups the small dictionary's pieces lack
(看護師 ~ ナース, 高齢者 ~ お年寄り). Only its groups are used — tokenising everything with it cut typo and
sentence matches. On the frozen split it lifts top-3 from 82.4 % to 84.3 % (paraphrase 15.8 → 26.3 %) and
costs one top-1 (78.0 → 77.6 %); see README.

We evaluated and rejected: chikkarpy (sdist only; its setup.py downloads the synonym source while building,
which cannot work from the package registry alone) and embedding
models (we found no Japanese-capable model whose weights ship inside a PyPI wheel; model2vec and
sentence-transformers fetch weights from a hub at run time, and torch alone is ~700 MB).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from storage.search import normalize as nz

# Parts of speech that carry no meaning for search (particles, auxiliaries, symbols, blanks).
_SKIP_POS = {"助詞", "助動詞", "補助記号", "空白", "記号"}
# Function-like content words members put around the real question; they would only add noise.
_STOP = {
    "する",
    "ある",
    "いる",
    "なる",
    "できる",
    "おる",
    "れる",
    "られる",
    "せる",
    "こと",
    "もの",
    "ため",
    "とき",
    "時",
    "よう",
    "ところ",
    "方",
    "ほう",
    "どう",
    "何",
    "なに",
    "なん",
    "いつ",
    "どこ",
    "誰",
    "どれ",
    "どの",
    "くらい",
    "ぐらい",
    "教える",
    "知る",
    "思う",
    "聞く",
    "分かる",
    "わかる",
    "良い",
    "いい",
    "よい",
    "お願い",
    "願う",
    "ください",
    "下さい",
    "それ",
    "これ",
    "あれ",
    "そう",
    "ちょっと",
    "すみません",
    "今",
    "実際",
    "みんな",
    "皆さん",
    "皆様",
    "場合",
    "について",
    "ない",
    "です",
    "ます",
    "みたい",
    "感じ",
    "私",
    "うち",
    "自分",
    "さん",
    "やる",
    "いう",
    "言う",
    "くる",
    "来る",
    "行く",
}


# The dictionaries load on the first search, not at import: the CLI and the jobs that never search skip them.
@lru_cache(maxsize=1)
def _tokenizer():
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="small").tokenizer(mode=SplitMode.C)


@lru_cache(maxsize=1)
def _core_tokenizer():
    from sudachipy import Dictionary, SplitMode

    return Dictionary(dict="core").tokenizer(mode=SplitMode.C)


@lru_cache(maxsize=256)
def core_groups(text: str) -> tuple[tuple[int, ...], ...]:
    """Synonym groups of the words the core dictionary sees (its compounds: 看護師, 高齢者 have groups)."""
    text = nz.clean(text)
    if not text:
        return ()
    try:
        return tuple(
            tuple(m.synonym_group_ids())
            for m in _core_tokenizer().tokenize(text[:2000])
            if m.part_of_speech()[0] not in _SKIP_POS
        )
    except Exception:  # noqa: BLE001 - a tokenizer failure must degrade search, never break it
        return ()


@dataclass(frozen=True)
class Term:
    """One meaningful unit of a query: its folded surface, loose readings and synonym groups."""

    surface: str
    readings: tuple[str, ...] = ()
    groups: tuple[tuple[int, ...], ...] = ()  # synonym groups of each word in the term
    alternatives: tuple[str, ...] = field(default=())  # other spellings (e.g. romaji → kana)
    weight: float = 1.0  # verbs and adjectives say less about the topic than nouns
    # The reading of a word typed in kanji: only weak evidence (問心票 and 問診票 are both もんしんひょう,
    # a typo; 天気 and 転居 are close only in kana), so the ranking counts it below a written match.
    weak_readings: tuple[str, ...] = ()


def bigrams(text: str) -> list[str]:
    """Character bigrams of each word, in order; a word of one character is its own token."""
    out: list[str] = []
    for w in nz.words(text):
        if len(w) == 1:
            out.append(w)
        else:
            out.extend(w[i : i + 2] for i in range(len(w) - 1))
    return out


@lru_cache(maxsize=64)
def _morphemes(text: str) -> tuple:
    """Sudachi morphemes of a text; cached because the reading and the synonyms read the same text."""
    text = nz.clean(text)
    if not text:
        return ()
    try:
        return tuple(_tokenizer().tokenize(text[:2000]))
    except Exception:  # noqa: BLE001 - a tokenizer failure must degrade search, never break it
        return ()


def reading(text: str) -> str:
    """Loose hiragana reading of a whole text (spaces between words kept)."""
    parts = []
    for m in _morphemes(text):
        if m.part_of_speech()[0] in ("補助記号", "空白"):
            parts.append(" ")
            continue
        r = m.reading_form() or m.surface()
        parts.append(r if r != "キゴウ" else m.surface())
    return nz.loose(nz.fold("".join(parts)))


def synonym_groups(text: str) -> list[int]:
    out: list[int] = []
    for m in _morphemes(text):
        if m.part_of_speech()[0] in _SKIP_POS:
            continue
        out.extend(m.synonym_group_ids())
    for line in text.split("\n"):
        for gs in core_groups(line):
            out.extend(gs)
    return out


@lru_cache(maxsize=1)
def _kakasi():
    import pykakasi

    return pykakasi.kakasi()


_KANJI_RUN = re.compile(r"[\u3005\u4e00-\u9fff]+")


@lru_cache(maxsize=65536)
def _kakasi_word(word: str) -> str:
    try:
        return nz.loose(nz.fold("".join(x["hira"] for x in _kakasi().convert(word))))
    except Exception:  # noqa: BLE001 - a second opinion is optional
        return ""


def second_reading(text: str) -> str:
    """pykakasi's readings of the kanji words: a dictionary-based second opinion where Sudachi's
    guess is unusual (県人会: Sudachi けんにんかい, pykakasi けんじんかい). Cached per kanji word, since
    the same words recur across entries."""
    return " ".join(_kakasi_word(w) for w in dict.fromkeys(_KANJI_RUN.findall(nz.clean(text)[:2000])))


def doc_tokens(text: str, *, both_readings: bool = False) -> str:
    """Space-separated index tokens for a field: surface bigrams, then reading bigrams."""
    toks = bigrams(text)
    toks.extend(bigrams(reading(text)))
    if both_readings:
        seen = set(toks)
        toks.extend(t for t in dict.fromkeys(bigrams(second_reading(text))) if t not in seen)
    return " ".join(toks)


_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞"}


def content_words(text: str) -> list[str]:
    """Sudachi-normalised nouns, verbs and adjectives of a text, folded; no particles, auxiliaries,
    numbers, dependent words (する, こと) or question framing (教える, 場合): what a text is about."""
    out: list[str] = []
    for m in _morphemes(text):
        pos = m.part_of_speech()
        if pos[0] not in _CONTENT_POS or "非自立可能" in pos or pos[1] == "数詞":
            continue
        word = m.normalized_form()
        if word in _STOP or m.dictionary_form() in _STOP:
            continue
        folded = nz.fold(word)
        if folded and not folded.isspace():
            out.append(folded)
    return list(dict.fromkeys(out))


def word_token(word: str) -> str:
    """The index token of one content word (`w` + its folded normalised form, no spaces)."""
    return "w" + "".join(word.split())


def syn_tokens(text: str) -> str:
    """Question-side meaning tokens: Sudachi synonym groups of every line, and the content words of the
    first line (the question itself), which say how much of the entry a query explains."""
    groups = [f"s{g}" for g in dict.fromkeys(synonym_groups(text))]
    first = text.split("\n", 1)[0] if text else ""
    return " ".join(groups + [word_token(w) for w in content_words(first)])


_WEAK_POS = {"動詞", "形容詞", "助動詞", "副詞", "形状詞", "接尾辞", "接頭辞"}
_ALL_KANJI = re.compile(r"^[\u3005\u4e00-\u9fff]+$")
_KANA_ONLY = re.compile(r"^[\u3041-\u309f\u30a0-\u30ffー]{2,15}$")


def _term(run: list) -> Term | None:
    surface = nz.fold("".join(m.surface() for m in run))
    if not surface.strip():
        return None
    reading_ = nz.loose(nz.fold("".join(m.reading_form() for m in run)))
    # Readings are for members who typed kana or romaji; a word typed in kanji is matched by its
    # kanji (天気 must not find 転居 through てんき~てんきょ).
    readings = {reading_} if reading_ and reading_ != surface and not _ALL_KANJI.match(surface) else set()
    alts: list[str] = []
    for w in nz.words(surface):
        kana = nz.romaji_to_hiragana(w)
        if kana:
            alts.append(kana)
            readings.add(nz.loose(kana))
    groups = tuple(tuple(m.synonym_group_ids()) for m in run if m.part_of_speech()[0] != "助動詞")
    groups += tuple(g for g in core_groups("".join(m.surface() for m in run)) if g)
    weight = 0.5 if all(m.part_of_speech()[0] in _WEAK_POS for m in run) else 1.0
    weak = (reading_,) if reading_ and _ALL_KANJI.match(surface) and len(reading_) >= 3 else ()
    return Term(surface, tuple(sorted(readings)), groups, tuple(alts), weight, weak)


def query_terms(query: str) -> list[Term]:
    """Split a question into meaningful terms; particles split, content words that touch join.

    A chunk written only in kana (ぼうさい, けんじんかい) is kept whole: Sudachi cannot know which
    kanji word was meant, and cutting it into pieces would lose the reading match.
    """
    text = nz.strip_question(query)[:500]
    terms: list[Term] = []
    for chunk in nz.clean(text).split():
        chunk = nz.strip_question(chunk)
        if _KANA_ONLY.match(chunk):
            folded = nz.fold(chunk)
            terms.append(Term(folded, (nz.loose(folded),)))
            continue
        run: list = []
        runs: list[list] = []
        for m in _morphemes(chunk):
            pos = m.part_of_speech()[0]
            if pos in _SKIP_POS - {"助動詞"} or m.normalized_form() in _STOP or m.dictionary_form() in _STOP:
                runs.append(run)
                run = []
                continue
            run.append(m)
        runs.append(run)
        for run in runs:
            while run and run[-1].part_of_speech()[0] == "助動詞":
                run = run[:-1]
            term = _term(run) if run else None
            if term:
                terms.append(term)
    return terms[:12]
