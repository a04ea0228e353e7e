"""bench/scale.py's table and RESULT line."""

from __future__ import annotations

import re
from typing import Any

from bench.common import percentile
from bench.scale_ops import Op


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def p50(op: Op) -> float:
    return percentile([c.total_ms for c in op.calls], 50)


def p99(op: Op) -> float:
    return percentile([c.total_ms for c in op.calls], 99)


def ttfb(op: Op) -> float:
    return percentile([c.ttfb_ms for c in op.calls], 50)


def rows_per_s(op: Op) -> float:
    return percentile([c.rows / (c.total_ms / 1000) for c in op.calls if c.total_ms], 50)


def ratio(big: float, small: float) -> float:
    return big / small if small else float("inf")


def scans(counts: dict[str, int]) -> str:
    return " ".join(f"{table}:{n}" for table, n in sorted(counts.items())) or "-"


def constant_table(small: list[Op], big: list[Op]) -> tuple[float, str]:
    head = ("small p50", "small p99", "big p50", "big p99", "ratio")
    print(f"\n{'constant operations (ms)':30} " + " ".join(f"{h:>10}" for h in head), end="")
    print("  seq scans on big tables (big db)")
    worst, worst_op = 0.0, ""
    for s, b in zip(small, big, strict=True):
        r = ratio(p50(b), p50(s))
        if r > worst:
            worst, worst_op = r, b.name
        cells = (p50(s), p99(s), p50(b), p99(b))
        print(f"{b.name:30} " + " ".join(f"{c:10.1f}" for c in cells), end="")
        print(f" {r:9.2f}x  {scans(b.seq_scans)}")
    return worst, worst_op


def growing_table(small: list[Op], big: list[Op]) -> tuple[float, float]:
    """The table; the largest time-to-first-byte ratio (of the answers a caller waits on)
    and the smallest rows-per-second ratio, big over small."""
    head = ("ttfb small", "ttfb big", "ratio", "rows/s sm", "rows/s big", "ratio", "RSS +MB")
    print(f"\n{'growing operations':30} " + " ".join(f"{h:>10}" for h in head), end="")
    print("  seq scans on big tables (big db)")
    worst, slowest = 0.0, float("inf")
    for s, b in zip(small, big, strict=True):
        t_ratio = ratio(ttfb(b), ttfb(s))
        if b.first_byte:
            worst = max(worst, t_ratio)
        rows = rows_per_s(b) / rows_per_s(s) if rows_per_s(s) else 0.0
        slowest = min(slowest, rows)
        first = [f"{ttfb(s):10.1f}", f"{ttfb(b):10.1f}", f"{t_ratio:10.2f}"]
        if not b.first_byte:  # background work: no first byte anyone waits on
            first = [f"{'-':>10}"] * 3
        cells = (rows_per_s(s), rows_per_s(b), rows, b.rss_growth_mb)
        print(f"{b.name:30} " + " ".join([*first, *(f"{c:10.1f}" for c in cells)]), end="")
        print(f"  {scans(b.seq_scans)}   (rows big/small: {b.calls[0].rows}/{s.calls[0].rows})")
    return worst, slowest


def report(small: Any, big: Any, heaviest: list[str]) -> None:
    """The two tables, the scans, the heaviest statements, then the RESULT line."""
    const = [(s, b) for s, b in zip(small.ops, big.ops, strict=True) if not b.growing]
    grow = [(s, b) for s, b in zip(small.ops, big.ops, strict=True) if b.growing]
    print(f"\nbig: {big.orders:,} orders; small: {small.orders:,} orders")
    worst, worst_op = constant_table([s for s, _ in const], [b for _, b in const])
    ttfb_ratio, rows_ratio = growing_table([s for s, _ in grow], [b for _, b in grow])
    for db in (small, big):
        per_op: dict[str, int] = {}
        for op in db.ops:
            for table, n in op.seq_scans.items():
                per_op[table] = per_op.get(table, 0) + n
        other = {t: n - per_op.get(t, 0) for t, n in db.seq_total.items() if n - per_op.get(t, 0)}
        total = sum(db.seq_total.values())
        print(
            f"\nseq scans on big tables, measured phase, {db.label} db: {total} "
            f"({scans(db.seq_total)}); outside the ops above (worker, other): {scans(other)}"
        )
    print("\nten heaviest statements (big db, measured phase):")
    for line in heaviest:
        print("  " + line)
    print(
        f"RESULT worst_ratio={worst:.2f} worst_op={slug(worst_op)} "
        f"seq_scans_big={sum(big.seq_total.values())} ttfb_ratio={ttfb_ratio:.2f} "
        f"orders={big.orders} generate_s={big.generate_s:.1f} rows_ratio={rows_ratio:.2f}"
    )
