"""The members map: the first picture in a fresh process (imports included), then warm ones, and PNG sizes.

Run from the repository root:

    .venv/bin/python -m bench.map

Each "first map" is a new Python process that imports bot.services.directory and draws one map, timed from
before the import to the PNG bytes, so it shows what the first `/members map` after a start costs. Counts are
a fixed spread over the 47 prefectures (Tokyo largest), the same every run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench.common import percentile, table

COUNTS = {f"{code:02d}": (code * 37) % 50 + (400 if code == 13 else 0) for code in range(1, 48) if code % 9}

FIRST = """
import json, sys, time
started = time.perf_counter()
from bot.services.directory import render_map
png = render_map(json.loads(sys.argv[1]))
print(json.dumps({"seconds": time.perf_counter() - started, "bytes": len(png)}))
"""


def first_map() -> dict:
    out = subprocess.run(
        [sys.executable, "-c", FIRST, json.dumps(COUNTS)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def main(runs: int, warm_runs: int) -> None:
    firsts = [first_map() for _ in range(runs)]
    from bot.services.directory import render_map

    render_map(COUNTS)
    warm = []
    for _ in range(warm_runs):
        started = time.perf_counter()
        png = render_map(COUNTS)
        warm.append(time.perf_counter() - started)
    cold = [f["seconds"] for f in firsts]
    rows = [
        ("first map in a fresh process (imports included)", percentile(cold, 50) * 1000, max(cold) * 1000, runs),
        ("map, warm", percentile(warm, 50) * 1000, max(warm) * 1000, warm_runs),
    ]
    print(table(("measure", "p50 ms", "max ms", "runs"), rows))
    print(f"PNG: {len(png):,} bytes")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--warm", type=int, default=20)
    args = parser.parse_args()
    main(args.runs, args.warm)
