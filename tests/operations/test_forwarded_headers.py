"""Every command that serves the API (`make run`'s launcher, the image, compose) runs uvicorn
believing X-Forwarded-For only from the proxies `FORWARDED_ALLOW_IPS` names.

Each command is run for real, with the application swapped for one that answers with the
client address uvicorn gave it: a made-up header from loopback must not change it, and a
proxy the setting names must.
"""

from __future__ import annotations

import json
import os
import re
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

import launcher.__main__ as launcher
from core.settings import ROOT_DIR, Settings
from launcher.services import free_port, start_process, wait_for_port
from tests.operations.test_compose import COMPOSE, SERVICES

SPOOFED = "198.51.100.23"
ECHO = """
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["client"][0].encode()})
"""


def _launcher_command(settings: Settings) -> list[str]:
    started: dict[str, list[str]] = {}

    class Recording(launcher.Platform):
        def start(self, name: str, args: list[str], *_: Any) -> None:
            started[name] = args

    worker = SimpleNamespace(log_path=Path("worker.log"))
    saved, launcher.start_process = launcher.start_process, lambda *_: worker  # type: ignore[assignment]
    try:
        launcher.start_apps(Recording(), settings, Path("."))
    finally:
        launcher.start_process = saved
    return started["api"]


def launcher_command(proxies: str) -> tuple[list[str], dict[str, str]]:
    return _launcher_command(Settings(forwarded_allow_ips=proxies)), {}


def image_command(proxies: str) -> tuple[list[str], dict[str, str]]:
    dockerfile = (ROOT_DIR / "Dockerfile").read_text()
    command = json.loads(re.findall(r"^CMD (.+)$", dockerfile, re.MULTILINE)[-1])
    default = re.findall(r'^ENV FORWARDED_ALLOW_IPS="(.*)"$', dockerfile, re.MULTILINE)
    return command, {"FORWARDED_ALLOW_IPS": proxies or default[0]}


def compose_command(proxies: str) -> tuple[list[str], dict[str, str]]:
    api = SERVICES["api"]
    env = {"FORWARDED_ALLOW_IPS": proxies or api["environment"]["FORWARDED_ALLOW_IPS"]}
    return [*api["entrypoint"], *api["command"]], env


def _echoing(args: list[str], app_dir: Path, port: int) -> list[str]:
    """The same command serving the echo app on a free loopback port."""
    if args[:2] == ["sh", "-c"]:  # the image and compose: one shell line
        line = " ".join(args[2:])
        app = "--factory api.main:create_default_app"
        line = line.replace(app, f"--app-dir {app_dir} echo:app")
        line = re.sub(r"--host \S+ --port \d+", f"--host 127.0.0.1 --port {port}", line)
        return ["sh", "-c", line]
    out = [arg for arg in args if arg != "--factory"]  # the launcher: a list of arguments
    out[out.index("api.main:create_default_app")] = "echo:app"
    out[out.index("--host") + 1] = "127.0.0.1"
    out[out.index("--port") + 1] = str(port)
    return [*out, "--app-dir", str(app_dir)]


def _client_seen(command: list[str], env: dict[str, str], tmp_path: Path) -> str:
    (tmp_path / "echo.py").write_text(textwrap.dedent(ECHO))
    port = free_port()
    env = {
        **env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    proc = start_process("api", _echoing(command, tmp_path, port), tmp_path / "api.log", env)
    try:
        wait_for_port(proc, "127.0.0.1", port, timeout=30)
        answer = httpx.get(f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": SPOOFED})
        return answer.text
    finally:
        proc.stop()


COMMANDS = [launcher_command, image_command, compose_command]


@pytest.mark.parametrize("command", COMMANDS, ids=["launcher", "image", "compose"])
def test_a_made_up_forwarded_for_from_loopback_is_ignored(command: Any, tmp_path: Path) -> None:
    args, env = command("")
    assert _client_seen(args, env, tmp_path) == "127.0.0.1"


@pytest.mark.parametrize("command", COMMANDS, ids=["launcher", "image", "compose"])
def test_a_named_proxy_is_believed(command: Any, tmp_path: Path) -> None:
    args, env = command("127.0.0.1")
    assert _client_seen(args, env, tmp_path) == SPOOFED


def test_compose_names_its_proxy_and_nothing_wider() -> None:
    """The one proxy compose trusts is its network's gateway: where the host's reverse proxy
    reaches the published ports from."""
    named = SERVICES["api"]["environment"]["FORWARDED_ALLOW_IPS"]
    gateway = COMPOSE["networks"]["default"]["ipam"]["config"][0]["gateway"]
    assert Settings(forwarded_allow_ips=named).forwarded_allow_ips == gateway


def test_the_setting_refuses_what_would_trust_anyone() -> None:
    for proxies in ("*", "proxy.internal", "10.0.0.1/8"):
        with pytest.raises(ValueError):
            Settings(forwarded_allow_ips=proxies)
    assert Settings(forwarded_allow_ips=" 10.0.0.1 , 10.1.0.0/16").forwarded_allow_ips == (
        "10.0.0.1,10.1.0.0/16"
    )
