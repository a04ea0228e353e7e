"""`make run`'s launcher as ops rely on it: a crashed child comes back (with backoff), and no
child outlives the launcher, however the launcher dies."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from core.settings import ROOT_DIR, Settings
from launcher.__main__ import Platform, private_data_dir, seaweed_ports
from launcher.services import seaweed_args, start_process


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


def _wait_for_exec(pid: int, marker: str) -> None:
    cmdline = Path(f"/proc/{pid}/cmdline")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        args = cmdline.read_bytes().split(b"\0")
        if b"setpriv" not in args[0] and marker.encode() in b" ".join(args):
            return
        time.sleep(0.02)
    raise AssertionError(f"{pid} never started its command: {cmdline.read_bytes()!r}")


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
    # `setpriv` asks for the death signal and then execs the command: kill the launcher only
    # once that has happened (before it, nothing has been asked of the kernel yet).
    _wait_for_exec(child_pid, "time.sleep(120)")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child_pid)


def _launch_ports(settings: Settings) -> set[int]:
    """Every port `make run` binds: API, Temporal frontend and UI, the emulator, S3 and
    SeaweedFS's internals with their gRPC twins (read off the command lines it builds), and
    the worker's two metrics ports."""
    ports = seaweed_ports(settings)
    args = seaweed_args(settings.data_dir / "seaweedfs", "127.0.0.1", ports, fixed_grpc=True)
    seaweed = {int(a.split("=", 1)[1]) for a in args if ".port" in a and a.split("=", 1)[1] != "0"}
    temporal = int(settings.temporal_address.rsplit(":", 1)[1])
    return seaweed | {
        settings.api_port,
        temporal,
        settings.temporal_ui_port,
        settings.bank_emulator_port,
        settings.worker_sdk_metrics_port,
        settings.worker_app_metrics_port,
    }


def test_two_platforms_with_other_ports_share_none(tmp_path: Path) -> None:
    first = Settings(environment="development", data_dir=tmp_path / "a")
    # One setting moves every port and what is derived from them.
    second = Settings(environment="development", data_dir=tmp_path / "b", port_offset=10)
    ours, theirs = _launch_ports(first), _launch_ports(second)
    assert (
        len(ours) == len(theirs) == 16
    )  # 4 services, S3 and 4 SeaweedFS ports, 5 twins, 2 metrics
    assert ours.isdisjoint(theirs)
    # The addresses built on those ports follow them: the bundled emulator's banks, S3, the
    # pages' public URL.
    assert second.bank_base_urls["vbank"] == "http://127.0.0.1:8110/vbank"
    assert second.s3_endpoint_url == "http://127.0.0.1:8343"
    assert second.public_base_url == "http://127.0.0.1:8010"
    assert second.uses_bundled_emulator("sbank")


def test_a_port_set_on_its_own_moves_what_is_derived_from_it(tmp_path: Path) -> None:
    moved = Settings(environment="development", data_dir=tmp_path, bank_emulator_port=18100)
    assert set(moved.bank_base_urls.values()) == {
        f"http://127.0.0.1:18100/{bank}" for bank in ("vbank", "abank", "sbank")
    }
    # Given explicitly, a port or an address is kept as given, offset or not.
    real = {"vbank": "https://vbank.open.bankingapi.ru"}
    kept = Settings(
        environment="development", data_dir=tmp_path, port_offset=10, api_port=9000,
        bank_base_urls=real,
    )  # fmt: skip
    assert (kept.api_port, kept.bank_base_urls, kept.temporal_ui_port) == (9000, real, 8243)


def test_the_data_folder_is_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "logs").mkdir(parents=True)
    old = data_dir / "jivapay.sqlite3"
    old.write_text("")
    old.chmod(0o644)
    (data_dir / "logs" / "api.log").write_text("")
    previous = os.umask(0o022)
    try:
        private_data_dir(Settings(environment="development", data_dir=data_dir))
        fresh = data_dir / "demo-credentials.json"
        fresh.write_text("{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "logs").stat().st_mode) == 0o700
    for path in (old, data_dir / "logs" / "api.log", fresh):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
