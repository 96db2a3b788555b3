"""Search quality on a realistic FAQ set and questions written the way members ask (≥ 90 % top-3)."""

from __future__ import annotations

import statistics

from tests.faq_eval_lib import evaluate, fresh_db, load_entries


async def test_top3_accuracy_and_no_confident_wrong_answer(db_url: str):
    db = await fresh_db(db_url)
    try:
        ids = await load_entries(db)
        assert len(ids) >= 40
        res = await evaluate(db, ids)
    finally:
        await db.dispose()
    top1, top3 = res.top1 / res.total, res.top3 / res.total
    print(
        f"\nFAQ eval: {res.total} queries, top-1 {top1:.1%}, top-3 {top3:.1%}, "
        f"auto-answered {res.confident} (wrong {len(res.confident_wrong)}), "
        f"p50 {statistics.median(res.latencies_ms):.1f} ms"
    )
    for q, expected, got in res.misses:
        print(f"  miss: {q!r} expected {expected}, got {got}")
    assert res.total >= 100
    assert top3 >= 0.90, res.misses
    # "Never a wrong confident answer": auto-answers must be right (allow one slip in the whole set).
    assert len(res.confident_wrong) <= 1, res.confident_wrong
