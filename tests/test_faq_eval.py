"""FAQ search quality on two splits of member-style questions: tuning (may be looked at) and frozen (never tuned on).

`python -m pytest -q -p no:xdist tests/test_faq_eval.py -s` prints both splits per query kind.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from tests.faq_eval_lib import (
    DATA,
    KINDS,
    SENTENCE_CHARS,
    SPLITS,
    content_words,
    entry_words,
    evaluate,
    fresh_db,
    load_entries,
    load_faq_entries,
    load_split,
)

# Which file is which: tuning.yaml may be read while building the ranking; frozen.yaml was written on
# 2026-11-25, before the ranking change of #13, and is never used to tune.
TUNING_FILE = DATA / "tuning.yaml"
FROZEN_FILE = DATA / "frozen.yaml"
# A change to frozen.yaml needs a NEW frozen split written from scratch (and this constant replaced with its
# sha256), never an edit of this one: once the ranking has been built, edited queries are tuned queries.
FROZEN_SHA256 = "4986a0b85c6ff0632650dfdab2a9c5dbbb3b87e7d0dfcd3d6c896cb46dd3b808"


def test_the_splits_are_the_files_they_say():
    assert SPLITS == {"regression": DATA / "regression.yaml", "tuning": TUNING_FILE, "frozen": FROZEN_FILE}
    assert not (DATA / "queries.yaml").exists()
    assert "Written 2026-11-25 before the ranking change of #13; never tune on it." in FROZEN_FILE.read_text("utf-8")


def test_frozen_split_is_unchanged_since_it_was_written():
    assert hashlib.sha256(FROZEN_FILE.read_bytes()).hexdigest() == FROZEN_SHA256


def test_the_data_keeps_its_own_rules():
    entries = {e["id"]: e for e in load_faq_entries()}
    assert len(entries) == len(load_faq_entries()) >= 60
    tuning, frozen = load_split("tuning"), load_split("frozen")
    every = tuning + frozen
    kinds = Counter(item["kind"] for item in every)

    assert set(kinds) == set(KINDS)
    assert len(every) >= 300
    assert kinds["sentence"] >= len(every) / 4
    assert kinds["paraphrase"] >= 0.15 * len(every)
    assert 0 < sum(item["expect"] is None for item in every) <= 0.05 * len(every)
    assert {item["expect"] for item in every} - {None} <= set(entries)
    # Frozen queries are written fresh, not copied from tuning.
    assert not {item["q"] for item in frozen} & {item["q"] for item in tuning}
    assert len({item["q"] for item in every}) == len(every)

    frozen_kinds = Counter(item["kind"] for item in frozen)
    assert len(frozen) >= 150
    assert all(frozen_kinds[k] >= 25 for k in KINDS), frozen_kinds
    assert frozen_kinds["sentence"] >= len(frozen) / 3
    assert set(Counter(item["kind"] for item in tuning)) == set(KINDS)

    low, high = SENTENCE_CHARS
    short_or_long = [item["q"] for item in every if item["kind"] == "sentence" and not low <= len(item["q"]) <= high]
    assert short_or_long == []


def test_a_paraphrase_shares_no_content_word_with_its_entry():
    entries = {e["id"]: e for e in load_faq_entries()}
    shared = {}
    for item in load_split("tuning") + load_split("frozen"):
        if item["kind"] == "paraphrase":
            common = content_words(item["q"]) & entry_words(entries[item["expect"]])
            if common:
                shared[item["q"]] = sorted(common)
    assert shared == {}


def test_the_content_word_check_would_catch_an_overlap():
    entry = {"question": "3回目の追加接種の間隔は？", "answer": "国の通知を確認してください。", "tags": ["ブースター"]}
    assert content_words("ブースター接種はいつ") & entry_words(entry) == {"ブースター", "接種"}
    assert content_words("3発目はいつ打てるのか教えてください") & entry_words(entry) == set()


async def measured(db_url: str, split: str, *, show_misses: bool):
    """Evaluate one split on a fresh database and print its per-kind table (and its misses when asked)."""
    db = await fresh_db(db_url)
    try:
        res = await evaluate(db, await load_entries(db), split)
    finally:
        await db.dispose()
    print("\n" + res.table())
    for q, expected, got in res.misses if show_misses else ():
        print(f"  miss: {q!r} expected {expected}, got {got}")
    return res


async def test_regression_top3_accuracy_and_no_confident_wrong_answer(db_url: str):
    # The gate the project has had since its first FAQ evaluation, on the same 156 queries (now among 61
    # entries): whatever the ranking becomes, it must not fall below this.
    res = await measured(db_url, "regression", show_misses=True)
    assert res.total == 156
    assert res.top3 / res.total >= 0.90, res.misses
    # "Never a wrong confident answer": auto-answers must be right (allow one slip in the whole set).
    assert len(res.confident_wrong) <= 1, res.confident_wrong


async def test_tuning_split_is_measured_per_kind(db_url: str):
    # #13's target (top-3 >= 90 %) is not met yet (86.3 % after the first ranking change): printed with its
    # misses, to build on, and asserted at 90 % once the ranking reaches it, as the frozen split will be.
    res = await measured(db_url, "tuning", show_misses=True)
    assert res.total == len(load_split("tuning")) >= 300
    assert len(res.confident_wrong) <= 1, res.confident_wrong


async def test_frozen_split_is_measured_per_kind(db_url: str):
    # Printed, not yet asserted at 90 %: #13's target is not met yet. Misses are not printed, so that running
    # this test does not turn the frozen queries into something to tune on.
    res = await measured(db_url, "frozen", show_misses=False)
    assert res.total == len(load_split("frozen"))
    assert sum(r.total for r in res.by_kind.values()) == res.total
    assert len(res.latencies_ms) == res.total
