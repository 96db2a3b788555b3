"""Helpers any benchmark can reuse: percentiles, a plain-text table, peak RSS and CPU time."""

from __future__ import annotations

import math
import resource
import sys
from collections.abc import Sequence


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of `values`; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p99 / max of latencies given in seconds, in milliseconds."""
    ordered = sorted(seconds)
    return {
        "p50": percentile(ordered, 50) * 1000,
        "p99": percentile(ordered, 99) * 1000,
        "max": (ordered[-1] if ordered else math.nan) * 1000,
    }


def fmt(value: object, digits: int = 1) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, digits: int = 1) -> str:
    """A right-aligned plain-text table (first column left-aligned)."""
    cells = [[fmt(v, digits) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cpu_seconds() -> float:
    """User + system CPU time this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_bench(argv, parse_args, child_main, orchestrate) -> int:
    """The entry point shared by the subprocess benches: a child role runs its server; the parent orchestrates
    within its time budget and exits 2 when the budget runs out."""
    import asyncio

    args = parse_args(argv)
    if args.role is not None:
        child_main(args)
        return 0
    try:
        return asyncio.run(asyncio.wait_for(orchestrate(args), args.budget + 5))
    except TimeoutError:
        print(f"bench failed: exceeded its {args.budget:.0f}s budget", file=sys.stderr)
        return 2
