"""`make run`'s launcher as ops rely on it: a crashed child comes back (with backoff), and no
child outlives the launcher, however the launcher dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from core.settings import ROOT_DIR
from launcher.__main__ import Platform
from launcher.services import start_process


def test_a_crashed_child_is_restarted_with_backoff(tmp_path: Path) -> None:
    platform = Platform()
    crashing = [sys.executable, "-c", "import sys, time; time.sleep(0.2); sys.exit(3)"]
    steady = [sys.executable, "-c", "import time; time.sleep(60)"]
    platform.children.append(start_process("crashy", crashing, tmp_path / "crashy.log"))
    platform.children.append(start_process("steady", steady, tmp_path / "steady.log"))
    stop = threading.Event()
    watcher = threading.Thread(target=platform.watch, args=(stop,))
    watcher.start()
    try:
        deadline = time.monotonic() + 20
        while platform.children[0].restarts < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        steady_pid = platform.children[1].popen.pid
        assert platform.children[0].restarts >= 2
        # The other child kept running through the restarts.
        assert platform.children[1].alive() and platform.children[1].restarts == 0
        assert platform.children[1].popen.pid == steady_pid
    finally:
        stop.set()
        watcher.join(timeout=10)
        platform.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too; it only waits for its (dead) parent to be reaped.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def test_children_die_with_a_killed_launcher(tmp_path: Path) -> None:
    parent = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from launcher.services import start_process
        child = start_process("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"],
                              Path({str(tmp_path / "child.log")!r}))
        print(child.popen.pid, flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", parent], cwd=ROOT_DIR, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    child_pid = int(proc.stdout.readline())
    assert _alive(child_pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child_pid)
