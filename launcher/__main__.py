"""`make run`: the whole platform on this machine, migrated and seeded, URLs printed.

Starts the Temporal dev server (file-backed, so running workflows survive a restart),
SeaweedFS, the bank emulator, the API and the worker as child processes; Ctrl-C stops them
all. Running it again reuses the data folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from cryptography.fernet import Fernet

from contracts.search_attributes import dev_server_flags
from core.context import ServiceContext
from core.migrate import upgrade
from core.settings import Settings, get_settings
from launcher.seed import DEMO_USERS, demo_inbox_url, identities_line, seed
from launcher.seed_bridge import BridgeDemo, bridge_possible, seed_bridge
from launcher.seed_fx import fx_lines
from launcher.seed_mfa import mfa_lines
from launcher.seed_notifications import notification_lines, uses_standin
from launcher.seed_teams import team_lines
from launcher.services import (
    ManagedProcess,
    SeaweedPorts,
    port_open,
    seaweed_args,
    start_process,
    temporal_args,
    wait_for_port,
)


def ensure_local_secrets(data_dir: Path) -> None:
    """Generate the JWT secret and Fernet key once and keep them in the data folder."""
    path = data_dir / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    stored.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
    stored.setdefault("FERNET_KEY", Fernet.generate_key().decode())
    path.write_text(json.dumps(stored))
    path.chmod(0o600)
    for name, value in stored.items():
        os.environ.setdefault(name, value)


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parsed = urlparse(url if "//" in url else f"//{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


# A child that ran this long before exiting is restarted at once; a crash loop backs off.
STABLE_AFTER_S = 60.0
MAX_BACKOFF_S = 60.0


def restart_delay(proc: ManagedProcess, now: float) -> float:
    if now - proc.started_at > STABLE_AFTER_S:
        proc.restarts = 0
        return 0.0
    return float(min(MAX_BACKOFF_S, 2**proc.restarts))


class Platform:
    def __init__(self) -> None:
        self.children: list[ManagedProcess] = []

    def start(self, name: str, args: list[str], log_dir: Path, host: str, port: int) -> None:
        if port_open(host, port):
            print(f"  {name}: something already listens on {host}:{port}, reusing it")
            return
        proc = start_process(name, args, log_dir / f"{name}.log")
        self.children.append(proc)
        wait_for_port(proc, host, port, timeout=120)
        print(f"  {name}: up (log {proc.log_path})")

    def stop(self) -> None:
        for proc in reversed(self.children):
            proc.stop()

    def watch(self, stop: threading.Event | None = None) -> None:
        """Restart a child that exits, with backoff; the others keep running meanwhile."""
        due: dict[str, float] = {}
        while stop is None or not stop.is_set():
            for proc in self.children:
                if proc.alive():
                    continue
                now = time.monotonic()
                if proc.name not in due:
                    delay = restart_delay(proc, now)
                    due[proc.name] = now + delay
                    print(f"  {proc.name} exited; restarting in {delay:.0f}s\n{proc.log_tail(5)}")
                elif now >= due[proc.name]:
                    del due[proc.name]
                    proc.restart()
                    print(f"  {proc.name}: restarted (#{proc.restarts})", flush=True)
            time.sleep(0.2)


def main() -> int:
    settings = get_settings()
    data_dir = private_data_dir(settings)
    ensure_local_secrets(data_dir)
    # A local demo: merchant callbacks may reach this machine (the demo store's inbox, a
    # receiver of your own); production keeps the default refusal of private addresses.
    os.environ.setdefault("CALLBACK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()
    settings = get_settings()
    log_dir = data_dir / "logs"
    platform = Platform()

    def on_signal(signum: int, _frame: object) -> None:
        # Stop once: a second signal (make passes its SIGTERM on to us, so `kill` of the
        # process group brings two) must not cut the stopping short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        start_services(platform, settings, log_dir)
        credentials = prepare_data(settings)
        start_apps(platform, settings, log_dir)
        bridge = bridge_demo(settings)
        print_banner(settings, credentials, bridge)
        platform.watch()
    except KeyboardInterrupt:
        code = 0
    except Exception as exc:
        print(f"\nplatform failed: {exc}", file=sys.stderr)
        code = 1
    # A second Ctrl-C must not leave children behind half-stopped.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("\nstopping…", flush=True)
    platform.stop()
    print("stopped.")
    return code


def seaweed_ports(settings: Settings) -> SeaweedPorts:
    """Every SeaweedFS port from settings (gRPC twins: + 10000), so two platforms with
    different settings can run side by side."""
    return SeaweedPorts(
        s3=_host_port(settings.s3_endpoint_url, 8333)[1],
        master=settings.seaweed_master_port,
        volume=settings.seaweed_volume_port,
        filer=settings.seaweed_filer_port,
        admin=settings.seaweed_admin_port,
    )


def private_data_dir(settings: Settings) -> Path:
    """The data folder, readable by its owner only: 0700, and 0600 for every file in it
    (the SQLite database, secrets, demo credentials, logs) — also when made by an older run."""
    os.umask(0o077)  # whatever the launcher and its children create from now on
    data_dir = settings.data_dir
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    for path in data_dir.rglob("*"):
        if path.is_symlink():
            continue
        path.chmod(0o700 if path.is_dir() else 0o600)
    return data_dir


def start_services(platform: Platform, settings: Settings, log_dir: Path) -> None:
    host, port = _host_port(settings.temporal_address, 7233)
    db_file = settings.data_dir / "temporal.db"
    args = temporal_args(db_file, host, port, settings.temporal_ui_port, dev_server_flags())
    platform.start("temporal", args, log_dir, host, port)
    s3_host, s3_port = _host_port(settings.s3_endpoint_url, 8333)
    ports = seaweed_ports(settings)
    args = seaweed_args(settings.data_dir / "seaweedfs", s3_host, ports, fixed_grpc=True)
    platform.start("seaweedfs", args, log_dir, s3_host, s3_port)
    emulator = [sys.executable, "-m", "bank_emulator", "--host", "127.0.0.1"]
    emulator += ["--port", str(settings.bank_emulator_port)]
    if (Path(__file__).parent.parent / "bank_emulator" / "__main__.py").exists():
        platform.start("bank-emulator", emulator, log_dir, "127.0.0.1", settings.bank_emulator_port)
    if uses_standin(settings):  # the Telegram Bot API stand-in (notifications)
        port = settings.telegram_standin_port
        standin = [sys.executable, "-m", "telegram_standin", "--host", "127.0.0.1"]
        platform.start(
            "telegram-standin", [*standin, "--port", str(port)], log_dir, "127.0.0.1", port
        )


def prepare_data(settings: Settings) -> dict[str, object]:
    ctx = ServiceContext.build(settings)
    for _ in range(50):
        try:
            ctx.storage.ensure_bucket()
            break
        except Exception:
            time.sleep(0.3)
    upgrade(settings.effective_database_url)
    print("  database: migrated")
    credentials = seed(
        ctx.engine, ctx.secrets, settings.data_dir / "demo-credentials.json", settings
    )
    print("  demo data: seeded")
    ctx.engine.dispose()
    return credentials


def start_apps(platform: Platform, settings: Settings, log_dir: Path) -> None:
    api = [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_default_app"]
    api += ["--host", settings.api_host, "--port", str(settings.api_port), "--no-access-log"]
    api += ["--forwarded-allow-ips", settings.forwarded_allow_ips]  # "": trust no proxy
    # On SIGTERM: drain (SHUTDOWN_DRAIN_SECONDS), then at most this long for requests in flight.
    api += ["--timeout-graceful-shutdown", "30"]
    platform.start("api", api, log_dir, settings.api_host, settings.api_port)
    worker = start_process("worker", [sys.executable, "worker.py"], log_dir / "worker.log")
    platform.children.append(worker)
    print(f"  worker: started (log {worker.log_path})")


def bridge_demo(settings: Settings) -> BridgeDemo | None:
    """Connect the bridge trader's bank and link their requisite (needs the worker)."""
    if not bridge_possible(settings):
        print("  statement bridge demo: skipped (VBank is not the bundled emulator)")
        return None
    try:
        demo = asyncio.run(seed_bridge(settings))
    except Exception as exc:
        print(f"  statement bridge demo: not ready ({type(exc).__name__}: {exc})")
        return None
    print("  statement bridge demo: VBank connected, requisite linked")
    return demo


def bridge_lines(settings: Settings, demo: BridgeDemo | None) -> list[str]:
    if demo is None:
        return []
    emulator = f"http://127.0.0.1:{settings.bank_emulator_port}"
    return [
        "",
        "Statement bridge demo (trader bridge@jivapay.dev, requisite ****"
        f"{demo.number_last4} linked to VBank {demo.account_id}):",
        '  1. POST /api/gateway/payins {"amount": "1500.00", "currency": "RUB",'
        ' "merchant_order_id": "demo-1", "bank_code": "vtb"}  → note the payable "amount"',
        f"  2. POST {emulator}/vbank/admin/transactions  (header X-Emulator-Admin: emulator-admin)",
        f'     {{"client_id": "{demo.client_id}", "account_id": "{demo.account_id}",'
        ' "transactions": [{"amount": "<payable amount>", "credit_debit_indicator": "Credit"}]}',
        "  3. within ~2 watch intervals (15 s) the pay-in is completed by bank_statement",
    ]


def print_banner(
    settings: Settings, credentials: dict[str, object], bridge: BridgeDemo | None = None
) -> None:
    base = f"http://{settings.api_host}:{settings.api_port}"
    ui_host = _host_port(settings.temporal_address, 7233)[0]
    passwords = credentials.get("passwords", {})
    assert isinstance(passwords, dict)
    lines = [
        "",
        "JivaPay is running.",
        f"  API docs (OpenAPI):  {base}/docs",
        f"  Readiness:           {base}/ready",
        f"  Temporal UI:         http://{ui_host}:{settings.temporal_ui_port}",
        f"  S3 (SeaweedFS):      {settings.s3_endpoint_url}  bucket {settings.s3_bucket}",
        f"  Bank emulator:       http://127.0.0.1:{settings.bank_emulator_port}/docs",
        f"  Database:            {settings.effective_database_url.split('@')[-1]}",
        "",
        "Pages (sign in with the demo logins below):",
        f"  Trader desk:         {base}/trader     trader1@jivapay.dev (or bridge@…)",
        f"  Merchant cabinet:    {base}/merchant   merchant@jivapay.dev",
        f"  Connect app:         {base}/app        connect@jivapay.dev",
        f"  Admin:               {base}/admin      admin@jivapay.dev",
        "",
        "Demo credentials (POST /api/auth/login, or the pages' sign-in):",
    ]
    for key, (email, role) in DEMO_USERS.items():
        lines.append(f"  {role.value:<13} {email:<24} {passwords.get(key)}")
    lines += mfa_lines(credentials)
    lines.append(f"  store API key (X-API-Key): {credentials.get('store_api_key')}")
    lines.append(f"  store signing secret:      {credentials.get('store_signing_secret')}")
    lines.append(f"  store callbacks arrive at: {demo_inbox_url(settings)}  (GET lists them)")
    lines.append(identities_line(settings))
    lines += fx_lines(settings, credentials, base)
    lines += team_lines(settings, base)
    lines += bridge_lines(settings, bridge)
    lines += notification_lines(settings)
    lines += ["", "Ctrl-C stops everything."]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
