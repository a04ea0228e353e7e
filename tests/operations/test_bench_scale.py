"""bench/scale.py, at a tiny size, ends with its RESULT line and every key in it (the
figures are the bench's business, not a test's: timing targets live in bench/).

Slower than 60 s on this 2-core machine: the bench starts its whole stack (a Temporal dev
server, SeaweedFS, two migrated PostgreSQL databases, two workers and the API), which is the
part under test; the data and the calls are cut to the minimum (2,000 orders, one call per
operation)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from core.settings import ROOT_DIR
from tests.conftest import TEST_DATABASE

KEYS = (
    "worst_ratio",
    "worst_op",
    "seq_scans_big",
    "ttfb_ratio",
    "orders",
    "generate_s",
    "rows_ratio",
)


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="a PostgreSQL benchmark")
def test_the_scale_bench_prints_its_result() -> None:
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--orders", "2000", "--repeats", "1"],
        cwd=ROOT_DIR,
        capture_output=True,
        timeout=600,
    )
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    last = out.strip().splitlines()[-1]
    assert last.startswith("RESULT "), out[-3000:]
    fields = dict(item.split("=", 1) for item in last.split()[1:])
    assert tuple(fields) == KEYS
    assert fields["orders"] == "2000"
    assert re.fullmatch(r"[a-z0-9_]+", fields["worst_op"])
    for key in ("worst_ratio", "ttfb_ratio", "generate_s", "rows_ratio"):
        assert float(fields[key]) > 0, last
    assert int(fields["seq_scans_big"]) >= 0
    # Every operation on both databases made it into the tables.
    for name in ("pay-in create (match)", "merchant CSV, one month", "snapshot rebuild (heavy)"):
        assert name in out
