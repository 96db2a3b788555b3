"""Word-vector neighbours for paraphrase: a member's words brought to an entry's vocabulary with no word list.

The vectors are the word2vec table that ships inside the `ja-ginza` wheel (480,443 words pruned to 20,000
distinct 300-dimensional vectors, 24 MB; nothing is downloaded at run time). Only its files are read — spaCy is
never imported: `key2row` maps spaCy's 64-bit MurmurHash (MurmurHash64A, seed 1) of a word to a row of
`vectors`, and a pruned word shares the row of its nearest kept word.

An entry's question-side content words are indexed as their rows (`v<row>` tokens in the meaning column).
A query's content word looks up its row's nearest rows (cosine ≥ NEIGHBOUR_MIN, at most NEIGHBOURS of them,
cached per row) and counts as evidence, weighed by the cosine, where an entry holds one of them: 行列 finds
待ち時間's neighbours, ショック finds アナフィラキシー's. When ja-ginza is not installed, nothing is indexed or
looked up and search works as before.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

NEIGHBOURS = 12
NEIGHBOUR_MIN = 0.5
_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1


def murmur64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A, as spaCy hashes a string (its StringStore keys)."""
    h = (seed ^ (len(data) * _M)) & _MASK
    whole = len(data) // 8
    for i in range(whole):
        k = (int.from_bytes(data[8 * i : 8 * i + 8], "little") * _M) & _MASK
        k ^= k >> 47
        h = ((h ^ ((k * _M) & _MASK)) * _M) & _MASK
    rest = data[8 * whole :]
    if rest:
        h = ((h ^ int.from_bytes(rest, "little")) * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    return h ^ (h >> 47)


def _vocab_dir() -> Path | None:
    # find_spec does not run ja_ginza/__init__.py, which would import spaCy.
    spec = find_spec("ja_ginza")
    for base in spec.submodule_search_locations or [] if spec else []:
        for vocab in sorted(Path(base).glob("ja_ginza-*/vocab")):
            if (vocab / "vectors").is_file() and (vocab / "key2row").is_file():
                return vocab
    return None


@lru_cache(maxsize=1)
def _table():
    """(key2row, unit vectors) or None when ja-ginza is not installed."""
    vocab = _vocab_dir()
    if vocab is None:
        return None
    try:
        import msgpack
        import numpy as np

        key2row = msgpack.unpackb((vocab / "key2row").read_bytes(), strict_map_key=False)
        vectors = np.load(vocab / "vectors")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return key2row, (vectors / np.maximum(norms, 1e-9)).astype(np.float32)
    except Exception:  # noqa: BLE001 - paraphrase by vectors is optional; search must work without it
        return None


def available() -> bool:
    return _table() is not None


@lru_cache(maxsize=65536)
def row(word: str) -> int | None:
    """The vector row of a (Sudachi-normalised) word, or None when the table does not know it."""
    table = _table()
    if table is None or not word:
        return None
    key2row = table[0]
    for spelling in dict.fromkeys((word, word.lower())):
        r = key2row.get(murmur64a(spelling.encode("utf-8")))
        if r is not None:
            return int(r)
    return None


_near: dict[int, tuple[tuple[int, float], ...]] = {}


def neighbours(rows: list[int]) -> list[tuple[tuple[int, float], ...]]:
    """For each row, the rows nearest to it (itself first) with their cosines. The rows not seen before are
    computed in one (k × 300) · (300 × 20,000) product; results are kept (at most 20,000 rows, 2 MB)."""
    table = _table()
    if table is None:
        return [() for _ in rows]
    new = [r for r in dict.fromkeys(rows) if r not in _near]
    if new:
        import numpy as np

        vectors = table[1]
        sims = vectors[new] @ vectors.T
        top = np.argpartition(-sims, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]
        for r, idx, row_sims in zip(new, top, sims, strict=True):
            near = sorted(
                ((int(i), float(row_sims[i])) for i in idx if row_sims[i] >= NEIGHBOUR_MIN), key=lambda x: -x[1]
            )
            _near[r] = tuple(near) or ((r, 1.0),)
    return [_near[r] for r in rows]


def token(r: int) -> str:
    return f"v{r}"
