"""worker.py as ops run it: connects, polls, and stops cleanly on SIGTERM and SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from core.context import ServiceContext
from core.settings import ROOT_DIR
from tests.factories import worker_env


def _wait_for(log: Path, text: str, proc: subprocess.Popen[bytes], limit_s: float) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        assert proc.poll() is None, log.read_text(errors="replace")
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged:\n{log.read_text(errors='replace')}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_worker_shuts_down_gracefully(ctx: ServiceContext, tmp_path: Path, sig: int) -> None:
    env = worker_env(ctx, f"shutdown-{uuid.uuid4().hex[:8]}", log_level="INFO")
    env["PYTHONFAULTHANDLER"] = "1"
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT_DIR, env=env, stdout=out, stderr=out
        )
    try:
        _wait_for(log, "worker polling task queue", proc, 60)
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "worker stopped" in text
    assert "Traceback" not in text
