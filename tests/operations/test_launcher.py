"""`make run`'s launcher as ops rely on it: a crashed child comes back (with backoff), no
child outlives the launcher, however the launcher dies, and its demo data (the USDT store,
the rate, the trader's collateral) is seeded once, however often it starts."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, select

from core.db import build_engine
from core.migrate import upgrade
from core.security import SecretBox, hash_api_key
from core.settings import ROOT_DIR, Settings
from launcher.__main__ import Platform, print_banner, private_data_dir, seaweed_ports
from launcher.seed import seed
from launcher.seed_fx import USDT_STORE
from launcher.services import seaweed_args, start_process
from models.base import utcnow
from models.ledger import LedgerAccount, Posting
from models.merchants import Store
from models.rates import ExchangeRate, RateUpdate
from models.traders import Requisite, SecurityDepositUpdate, Trader
from models.users import User
from processing.accounts.admin import set_settlement_currency
from processing.accounts.collateral import collateral_of, set_security_deposit
from processing.platform.rates import fresh_price, is_stale, set_manual
from tests.conftest import TEST_DATABASE, _pg_url, create_database, drop_database


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


@pytest.fixture
def seed_settings(tmp_path: Path) -> Iterator[Settings]:
    """A fresh, migrated database of the suite's kind (TEST_DATABASE) for `make run`'s seed."""
    name = None
    if TEST_DATABASE == "sqlite":
        url = f"sqlite:///{tmp_path / 'jivapay.sqlite3'}"
    else:
        name = create_database("jivapay_seed")
        url = _pg_url(name)
    settings = Settings(environment="development", data_dir=tmp_path, database_url=url)
    upgrade(settings.effective_database_url)
    try:
        yield settings
    finally:
        if name is not None:
            drop_database(name)


def _snapshot(session: Session) -> dict[str, object]:
    """What the seed writes, row by row (a second seed must leave it as it is)."""
    tables = (User, Store, Trader, Requisite, LedgerAccount, Posting, ExchangeRate)
    return {
        model.__name__: sorted(repr(row.model_dump()) for row in session.exec(select(model)))
        for model in tables
    }


def test_the_demo_data_has_a_usdt_store_a_rate_and_collateral_and_seeds_once(
    seed_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = build_engine(seed_settings)
    box = SecretBox(seed_settings.fernet_keys)
    credentials_file = seed_settings.data_dir / "demo-credentials.json"
    try:
        first = seed(engine, box, credentials_file, seed_settings)
        with Session(engine) as session:
            before = _snapshot(session)
            usdt = session.get_one(Store, uuid.UUID(str(first["usdt_store_id"])))
            assert (usdt.name, usdt.currency, usdt.settlement_currency) == (
                USDT_STORE, "RUB", "USDT"
            )  # fmt: skip
            assert usdt.api_key_hash == hash_api_key(str(first["usdt_store_api_key"]))
            assert box.decrypt(usdt.signing_secret_encrypted) == first["usdt_store_signing_secret"]
            # The first store is still the one whose key is printed as the store's.
            store = session.get_one(Store, uuid.UUID(str(first["store_id"])))
            assert store.api_key_hash == hash_api_key(str(first["store_api_key"]))
            assert store.settlement_currency is None and store.id != usdt.id
            rate = session.get_one(ExchangeRate, ("USDT", "RUB"))
            assert (rate.source, rate.buy, rate.sell) == ("manual", "95.10", "95.60")
            assert not is_stale(rate, utcnow())
            # The USDT store's pay-ins are priced with it: RUB per USDT, the spread against it.
            price = fresh_price(session, "USDT", "RUB", "credit", utcnow())
            assert price == Decimal("95.60")
            trader1 = session.exec(
                select(Trader).join(User).where(User.email == "trader1@jivapay.dev")
            ).one()
            (rub,) = collateral_of(session, trader1.id)
            assert (rub.currency, rub.security_deposit, rub.security_deposit_source) == (
                "RUB", "20000.00", "trader"
            )  # fmt: skip
            assert (rub.balance, rub.working_balance) == ("100000.00", "80000.00")

        # A second start: the same credentials, not one row added or changed.
        again = seed(engine, box, credentials_file, seed_settings)
        with Session(engine) as session:
            assert _snapshot(session) == before
        assert again == first
    finally:
        engine.dispose()

    print_banner(seed_settings, again, None)
    banner = capsys.readouterr().out
    assert f"USDT store:     {first['usdt_store_id']}" in banner
    assert f"store API key (X-API-Key): {first['usdt_store_api_key']}" in banner
    assert "Rate USDT/RUB:  buy 95.10 / sell 95.60 RUB per USDT (manual, fresh" in banner
    assert "the provider never overwrites a manual rate" in banner
    assert "security deposit 20000.00, working balance 80000.00" in banner
    assert "POST /api/admin/deposits/{id}/approve" in banner
    assert "POST /api/admin/withdrawals/{id}/approve" in banner


def test_the_seed_keeps_what_an_administrator_changed(seed_settings: Settings) -> None:
    """A rate, a trader's deposit and a settlement currency set by hand survive a restart;
    a lost credentials file gets the USDT store a new key that works."""
    engine = build_engine(seed_settings)
    box = SecretBox(seed_settings.fernet_keys)
    credentials_file = seed_settings.data_dir / "demo-credentials.json"
    try:
        first = seed(engine, box, credentials_file, seed_settings)
        with Session(engine, expire_on_commit=False) as session:
            admin_id = session.exec(select(User).where(User.email == "admin@jivapay.dev")).one().id
            body = RateUpdate(buy="90", sell="91", max_age_s=60)
            set_manual(session, base="USDT", quote="RUB", body=body, actor_id=admin_id)
            trader1 = session.exec(
                select(Trader).join(User).where(User.email == "trader1@jivapay.dev")
            ).one()
            update = SecurityDepositUpdate(currency="RUB", amount="0")
            set_security_deposit(session, trader_id=trader1.id, body=update)
            usdt_id = uuid.UUID(str(first["usdt_store_id"]))
            set_settlement_currency(session, Store, usdt_id, "Store", "EUR")
        credentials_file.unlink()
        again = seed(engine, box, credentials_file, seed_settings)
        with Session(engine) as session:
            rate = session.get_one(ExchangeRate, ("USDT", "RUB"))
            assert (rate.buy, rate.sell, rate.max_age_s) == ("90", "91", 60)
            (rub,) = collateral_of(session, trader1.id)
            assert rub.security_deposit == "0.00"
            usdt = session.get_one(Store, usdt_id)
            assert usdt.settlement_currency == "EUR"
            assert again["usdt_store_id"] == first["usdt_store_id"]
            assert again["usdt_store_api_key"] != first["usdt_store_api_key"]
            assert usdt.api_key_hash == hash_api_key(str(again["usdt_store_api_key"]))
    finally:
        engine.dispose()
