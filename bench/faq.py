"""FAQ search benchmark: N generated entries, index vs LIKE scan latency, and both eval splits per query kind.

    .venv/bin/python bench/faq.py [--entries 100000] [--db PATH] [--postgres postgresql://…/EMPTY_DB]
                                  [--tokens FILE] [--splits regression,tuning,frozen]

Entries are recombined from realistic vocabulary; the index tokens are computed by the same code as
storage.faqs.upsert (Sudachi + pykakasi), then bulk-inserted in one transaction (FTS5 is filled by the
triggers). The eval entries (tests/data/faq_eval) are imported into the same team, so the queries of
both splits (tuning.yaml, and frozen.yaml which is never tuned on) are also measured among N distractors.

Computing the tokens of 100,000 entries takes minutes; `--tokens FILE` keeps them in FILE for the next run.
`--splits regression,tuning` leaves the frozen split out: for runs while the ranking is being worked on (the
frozen split is measured once, when it is final). The first search of the generated team builds its in-memory
index (storage/search/index.py): its CPU time and the process's peak RSS are reported on their own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import random
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from storage import faqs
from storage.db import Database
from storage.faqs import question_key
from storage.migrate import upgrade
from storage.models import Faq, SearchDoc
from storage.search.engine import bump, scope_token, tokens_for
from tests.faq_eval_lib import SPLITS, evaluate, load_entries, load_split, percentile

TEAM = "T_BENCH"
SUBJECTS = [
    "ワクチン",
    "接種券",
    "集団接種会場",
    "個別接種",
    "予約システム",
    "コールセンター",
    "問診票",
    "副反応",
    "超低温冷凍庫",
    "保冷バッグ",
    "VRS",
    "接種証明書",
    "訪問接種",
    "追加接種",
    "防災訓練",
    "避難所",
    "庁内放送",
    "説明会",
    "交流会",
    "県人会",
    "テレワーク",
    "人事異動",
    "転居届",
    "会計年度任用職員",
    "住民票",
    "マイナンバーカード",
    "ふるさと納税",
    "LGWAN",
    "議会答弁",
    "予算要求",
    "広報紙",
    "窓口業務",
    "オンライン申請",
    "電子決裁",
    "ごみ収集",
    "子育て支援",
    "介護保険",
    "国民健康保険",
    "学校給食",
    "除雪",
]
ASPECTS = [
    "の手順",
    "の予約",
    "の受付時間",
    "の担当課",
    "の費用",
    "の事例",
    "の注意点",
    "の様式",
    "の保管方法",
    "の配布方法",
    "の人員配置",
    "の問い合わせ先",
    "のスケジュール",
    "の委託",
    "の広報",
    "の廃棄",
    "の再発行",
    "の記入例",
    "の会場",
    "の研修",
]
ENDINGS = ["は？", "はどうしていますか？", "について教えてください", "を知りたいです", "で困っています"]
ANSWER_BITS = [
    "県の担当課に確認してください。",
    "近隣自治体の事例を共有します。",
    "様式はアーカイブにあります。",
    "予約は電話とウェブで受け付けています。",
    "職員の応援体制を整えました。",
    "住民向けに広報紙で周知しました。",
    "会場は体育館と公民館を使いました。",
    "委託業者と週次で打ち合わせをしています。",
    "温度ロガーで記録しています。",
    "問い合わせはコールセンターに集約しました。",
    "次回の情報交換会で共有予定です。",
    "国の通知を確認してください。",
]
SHORT_QUERIES = ["予約", "接種", "会場", "防災", "廃棄", "副業", "放送", "課長", "給食", "除雪"]
LONG_QUERIES = [
    "ワクチン 保管温度",
    "集団接種会場の予約",
    "防災訓練の事例",
    "接種券の再発行について教えてください",
    "ふるさと納税の広報",
    "せっしゅけん",
    "bousai kunren",
    "子育て支援の窓口業務の委託",
    "コールセンターの人員配置はどうしていますか",
    "マイナンバーカードの受付時間",
]


def generate(n: int, seed: int = 7) -> list[tuple[str, str, list[str], str]]:
    rnd = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        subj, asp, end = rnd.choice(SUBJECTS), rnd.choice(ASPECTS), rnd.choice(ENDINGS)
        q = f"{subj}{asp}{end}（事例{len(out) % 997}・{rnd.choice(SUBJECTS)}）"
        if q in seen:
            continue
        seen.add(q)
        answer = " ".join(rnd.sample(ANSWER_BITS, 3))
        out.append((q, answer, [subj, asp.lstrip("の")], f"第{rnd.randint(1, 11)}回ワクチン接種情報交換会 FAQ"))
    return out


def _tokens(chunk: list[tuple[str, str, list[str], str]]) -> list[dict[str, str]]:
    return [tokens_for("\n".join([q, *tags]), a + "\n" + src) for q, a, tags, src in chunk]


def prepare(
    n: int, workers: int, cache: Path | None = None
) -> tuple[list[tuple[str, str, list[str], str]], list[dict[str, str]], float]:
    """The generated entries and their index tokens (computed once, loaded into each database)."""
    t0 = time.perf_counter()
    rows = generate(n)
    if cache is not None and cache.exists():
        kept_n, tokens = pickle.loads(cache.read_bytes())
        if kept_n == n:
            return rows, tokens, time.perf_counter() - t0
    chunks = [rows[i : i + 2000] for i in range(0, n, 2000)]
    with ProcessPoolExecutor(workers) as pool:
        tokens = [t for part in pool.map(_tokens, chunks) for t in part]
    if cache is not None:
        cache.write_bytes(pickle.dumps((n, tokens)))
    return rows, tokens, time.perf_counter() - t0


async def load(db: Database, rows: list, tokens: list[dict[str, str]]) -> float:
    t0 = time.perf_counter()
    n = len(rows)
    async with db.read() as s:
        base = int(await s.scalar(text("SELECT coalesce(max(id), 0) FROM faqs")))
    scope = scope_token(TEAM, "faq")
    async with db.write() as s:
        # One generation for the whole batch, as storage.search.engine.index stamps one row.
        version = await bump(s, TEAM, "faq")
        docs = [
            {"team_id": TEAM, "kind": "faq", "ref_id": base + i + 1, "scope": scope, "version": version, **t}
            for i, t in enumerate(tokens)
        ]
        for start in range(0, n, 5000):
            chunk = rows[start : start + 5000]
            await s.execute(
                insert(Faq),
                [
                    {
                        "id": base + start + j + 1,
                        "team_id": TEAM,
                        "qkey": question_key(q),
                        "question": q,
                        "answer": a,
                        "tags": tags,
                        "aliases": [],
                        "source": src,
                        "visibility": "public",
                        "helpful": 0,
                        "unhelpful": 0,
                        "revision": 1,
                    }
                    for j, (q, a, tags, src) in enumerate(chunk)
                ],
            )
            await s.execute(insert(SearchDoc), docs[start : start + 5000])
        if not db.is_sqlite:  # explicit ids leave the sequences behind; later inserts would collide
            for table in ("faqs", "search_docs"):
                await s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"))
    if not db.is_sqlite:
        async with db.write() as s:
            await s.execute(text("ANALYZE"))
    return time.perf_counter() - t0


async def timed(fn, queries: list[str], rounds: int = 3, cpu: list[float] | None = None) -> list[float]:
    """Wall time per call in ms; with `cpu`, this process's CPU time per call too (steadier on a busy machine)."""
    out = []
    for _ in range(rounds):
        for q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            await fn(q)
            out.append((time.perf_counter() - t0) * 1000)
            if cpu is not None:
                cpu.append((time.process_time() - c0) * 1000)
    return out


async def measure(db: Database, label: str, rows: list, tokens: list[dict[str, str]], splits: list[str]) -> None:
    """Latency per query kind and the eval splits, alone and among the generated entries, on one database."""
    await upgrade(db)
    clean_ids = await load_entries(db, team_id="T_EVAL_ONLY")
    clean = [await evaluate(db, clean_ids, split, team_id="T_EVAL_ONLY") for split in splits]
    load_s = await load(db, rows, tokens)
    print(f"\n==== {label}: inserted {len(rows):,} entries in {load_s:.1f} s")
    c0, t0 = time.process_time(), time.perf_counter()
    await faqs.search(db=db, team_id=TEAM, query="予約", limit=3)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"in-memory index of {len(rows):,} entries built by the first search: {time.process_time() - c0:.1f} s CPU,"
        f" {time.perf_counter() - t0:.1f} s wall; peak RSS of this process {rss:,.0f} MiB"
    )

    async def index_search(q: str):
        return await faqs.search(db=db, team_id=TEAM, query=q, limit=3)

    async def like_scan(q: str):
        words = [w for w in q.split() if w]
        where = " AND ".join(f"(question LIKE :w{i} OR answer LIKE :w{i})" for i in range(len(words)))
        params = {f"w{i}": f"%{w}%" for i, w in enumerate(words)} | {"t": TEAM}
        sql = text(f"SELECT id, question FROM faqs WHERE team_id = :t AND {where}")
        async with db.read() as s:
            return (await s.execute(sql, params)).all()

    out = []
    sentences = [item["q"] for item in load_split("tuning") if item["kind"] == "sentence"]
    for kind, queries in (("2-character", SHORT_QUERIES), ("longer", LONG_QUERIES), ("sentence", sentences)):
        first: list[float] = []
        await timed(index_search, queries, rounds=1, cpu=first)  # first sight of each query: nothing cached
        cpu: list[float] = []
        idx = await timed(index_search, queries, cpu=cpu)
        like = await timed(like_scan, queries[:10])
        out.append((kind, idx, cpu, first, like))
    print(
        f"{'queries':<12} {'index p50':>10} {'index p95':>10} {'CPU p50':>10} {'CPU p95':>10} {'1st CPU p95':>12}"
        f" {'LIKE p50':>10} {'LIKE p95':>10} {'LIKE/index':>11}"
    )
    for kind, idx, cpu, first, like in out:
        i50, i95, l50, l95 = percentile(idx, 0.5), percentile(idx, 0.95), percentile(like, 0.5), percentile(like, 0.95)
        c50, c95, f95 = percentile(cpu, 0.5), percentile(cpu, 0.95), percentile(first, 0.95)
        print(
            f"{kind:<12} {i50:>8.1f}ms {i95:>8.1f}ms {c50:>8.1f}ms {c95:>8.1f}ms {f95:>10.1f}ms {l50:>8.1f}ms"
            f" {l95:>8.1f}ms {l50 / i50:>10.1f}x"
        )
    print("(index = the full faqs.search, 3 rounds after a first one; CPU = this process's CPU time per query;")
    print(" 1st = the first round, before the per-query caches; LIKE = a bare scan, no ranking)")

    ids = await load_entries(db, team_id=TEAM)
    scaled = [await evaluate(db, ids, split, team_id=TEAM) for split in splits]
    for name, results in (("eval set alone", clean), (f"eval among {len(rows):,}", scaled)):
        print(f"\n== {label}, {name}")
        for r in results:
            print(r.table())
    await db.dispose()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--db", default=None, help="SQLite file (default: a temporary one)")
    ap.add_argument("--postgres", default=None, help="an EMPTY PostgreSQL database to measure too (postgresql://…)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes computing index tokens")
    ap.add_argument("--tokens", type=Path, default=None, help="keep the generated entries' tokens in this file")
    ap.add_argument("--splits", default=",".join(SPLITS), help="eval splits to measure (default: all)")
    args = ap.parse_args()
    splits = [x for x in args.splits.split(",") if x]
    if set(splits) - set(SPLITS):
        ap.error(f"--splits: choose from {', '.join(SPLITS)}")
    rows, tokens, tokens_s = prepare(args.entries, args.workers, args.tokens)
    print(
        f"index tokens of {args.entries:,} entries in {tokens_s:.1f} s ({args.entries / tokens_s:,.0f}/s)", flush=True
    )
    path = args.db or f"{tempfile.mkdtemp()}/bench.db"
    await measure(Database(f"sqlite+aiosqlite:///{path}"), "SQLite", rows, tokens, splits)
    if args.postgres:
        url = args.postgres.replace("postgresql://", "postgresql+asyncpg://", 1)
        await measure(Database(url), "PostgreSQL", rows, tokens, splits)


if __name__ == "__main__":
    asyncio.run(main())
