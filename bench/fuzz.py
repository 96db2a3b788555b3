"""The fuzz properties of tests/test_fuzz.py at scale: 10,000 cases by default, split over the three surfaces.

    .venv/bin/python -m bench.fuzz [--cases 10000] [--db URL]

Runs on a temporary SQLite file unless --db gives a migrated-or-empty database URL. Exit status 1 on the
first falsified property (hypothesis prints the shrunk example).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import pytest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="examples in all (default 10,000)")
    parser.add_argument("--db", help="YAKUBA_TEST_POSTGRES-style admin DSN for PostgreSQL (default: SQLite)")
    args = parser.parse_args()
    from hypothesis import HealthCheck, settings

    per_property = max(1, args.cases // 3)
    settings.register_profile(
        "bench", max_examples=per_property, deadline=None, suppress_health_check=list(HealthCheck)
    )
    os.environ["HYPOTHESIS_PROFILE"] = "bench"
    if args.db:
        os.environ["YAKUBA_TEST_POSTGRES"] = args.db
    started = time.perf_counter()
    with tempfile.TemporaryDirectory():
        # One process: the "bench" profile is registered here, not in xdist workers.
        code = pytest.main(["-q", "-p", "no:cacheprovider", "-n", "0", "-o", "timeout=0", "tests/test_fuzz.py"])
    print(f"{per_property * 3:,} cases ({per_property:,} per property) in {time.perf_counter() - started:.0f} s")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
