"""A benchmark ends with its RESULT line and exit code 0: the Temporal server it starts is a
process of its own, gone before the interpreter exits (the SDK's `start_local` left work
behind that aborted an exiting interpreter about half the time: "Fatal Python error:
PyGILState_Release")."""

from __future__ import annotations

import subprocess
import sys

from core.settings import ROOT_DIR

SCRIPT = """
import asyncio
from bench.common import temporal

async def main() -> None:
    async with temporal() as client:
        await client.count_workflows()
    print("RESULT ok=1", flush=True)

asyncio.run(main())
"""


def test_a_benchmark_stack_exits_cleanly() -> None:
    for _ in range(4):  # the abort it replaces came about every other run
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=ROOT_DIR, capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert b"Fatal Python error" not in done.stderr
        assert done.stdout.decode().splitlines()[-1] == "RESULT ok=1"
