"""HAProxy (Debian's `haproxy`) in front of API processes, run from the deploy template
`deploy/haproxy/haproxy.cfg` with the drill's addresses, and read through its stats socket."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import shutil
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.settings import ROOT_DIR
from launcher.services import ManagedProcess, free_port, start_process, wait_for_port

TEMPLATE = ROOT_DIR / "deploy" / "haproxy" / "haproxy.cfg"
CHECK_INTER = "200ms"


def api_args(port: int) -> list[str]:
    """The API as the launcher serves it."""
    args = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_default_app"]
    args += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    return [*args, "--timeout-graceful-shutdown", "30", "--log-level", "warning"]


class ApiServer:
    """One API process on a port of its own, which its successor takes over."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name, self.port = name, free_port()
        self.proc = start_process(name, api_args(self.port), log, env)

    def wait_listening(self) -> None:
        wait_for_port(self.proc, "127.0.0.1", self.port)

    def assert_alive(self) -> None:
        assert self.proc.alive(), f"{self.name} exited:\n{self.proc.log_tail()}"

    def terminate(self) -> None:
        """SIGTERM, as an orchestrator sends it (the drain starts)."""
        os.killpg(self.proc.popen.pid, signal.SIGTERM)

    def exit_code(self, timeout: float = 60) -> int:
        return self.proc.popen.wait(timeout=timeout)


class Balancer:
    """HAProxy on a free port: its `server` lines name the given API servers."""

    def __init__(self, servers: list[ApiServer], workdir: Path) -> None:
        self.port, self.socket_path = free_port(), workdir / "haproxy.sock"
        env = {
            "HAPROXY_BIND": f"127.0.0.1:{self.port}",
            "HAPROXY_STATS_SOCKET": str(self.socket_path),
            "HAPROXY_CHECK_INTER": CHECK_INTER,
        }
        for number, server in enumerate(servers, start=1):
            env[f"API_SERVER_{number}"] = f"127.0.0.1:{server.port}"
        binary = shutil.which("haproxy") or pytest.fail(
            "haproxy is not installed: apt-get install -y haproxy (.ci/run does)"
        )
        args = [binary, "-db", "-f", str(TEMPLATE)]
        self.proc: ManagedProcess = start_process("haproxy", args, workdir / "haproxy.log", env)
        wait_for_port(self.proc, "127.0.0.1", self.port)
        self.url = f"http://127.0.0.1:{self.port}"

    def statuses(self) -> dict[str, dict[str, str]]:
        """Each server's row of `show stat`: `status` UP, DOWN, "DOWN 1/2" (rising), …;
        `check_status` why: L7OK, L7STS (it answered another status), L4CON (refused), …"""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(b"show stat\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        lines = b"".join(chunks).decode().lstrip("# ").splitlines()
        rows = csv.DictReader(line for line in lines if line)
        return {
            row["svname"]: row
            for row in rows
            if row["pxname"] == "api" and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    async def until(
        self, name: str, status: str, also: Callable[[], None] = lambda: None
    ) -> dict[str, str]:
        """Wait until HAProxy reports `name` as `status` and return its row; `also` raises to
        give up early. The socket is asked on the loop itself (a local answer within a
        millisecond): a thread of the default pool may be slow to come while activities run."""
        deadline = asyncio.get_running_loop().time() + 60
        while (row := self.statuses()[name])["status"] != status:
            also()
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{name} not {status}:\n{self.proc.log_tail()}")
            await asyncio.sleep(0.05)
        return row

    def stop(self) -> None:
        self.proc.stop()


@contextlib.contextmanager
def balanced(servers: list[ApiServer], workdir: Path) -> Iterator[Balancer]:
    balancer = Balancer(servers, workdir)
    try:
        yield balancer
    finally:
        balancer.stop()
