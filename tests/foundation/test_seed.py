"""`make run`'s demo data on the default database: the demo Connect user holds the first
sandbox identity of the configured team, whatever BANK_CLIENT_ID says."""

from __future__ import annotations

import uuid
from pathlib import Path

import pyotp
import pytest
from sqlmodel import Session, select

from connect.identities import identity_of
from core.db import build_engine
from core.migrate import upgrade
from core.security import SecretBox
from core.settings import Settings
from launcher.__main__ import bridge_demo, print_banner
from launcher.seed import seed
from launcher.seed_mfa import DEMO_ADMIN_TOTP_SECRET
from models.merchants import Store
from models.mfa import SecondFactor
from models.users import SandboxIdentity, User


def test_the_demo_user_takes_its_identity_from_bank_client_id(tmp_path: Path) -> None:
    settings = Settings(environment="development", data_dir=tmp_path, bank_client_id="team777")
    upgrade(settings.effective_database_url)
    engine = build_engine(settings)
    credentials = tmp_path / "demo-credentials.json"
    seed(engine, SecretBox(settings.fernet_keys), credentials, settings)
    seed(engine, SecretBox(settings.fernet_keys), credentials, settings)  # idempotent
    with Session(engine) as session:
        demo = session.exec(select(User).where(User.email == "connect@jivapay.dev")).one()
        pool = session.exec(select(SandboxIdentity)).all()
    assert identity_of(engine, demo.id) == "team777-1"
    assert sorted(i.external_client_id for i in pool) == sorted(
        f"team777-{k}" for k in range(1, 11)
    )
    assert [i.user_id for i in pool if i.user_id is not None] == [demo.id]
    engine.dispose()


REAL_BANKS = {bank: f"https://{bank}.open.bankingapi.ru" for bank in ("vbank", "abank", "sbank")}


def test_the_bridge_demo_keeps_no_identity_from_real_users(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the real banks the statement bridge demo cannot run (it needs the emulator's
    admin routes): it is not seeded, and the banner says how many identities are free."""
    settings = Settings(environment="development", data_dir=tmp_path, bank_base_urls=REAL_BANKS)
    upgrade(settings.effective_database_url)
    engine = build_engine(settings)
    credentials = seed(
        engine, SecretBox(settings.fernet_keys), tmp_path / "demo-credentials.json", settings
    )
    assert bridge_demo(settings) is None
    with Session(engine) as session:
        held = [i.external_client_id for i in session.exec(select(SandboxIdentity)) if i.user_id]
    assert held == ["team042-1"]  # the demo Connect user's only
    engine.dispose()

    print_banner(settings, credentials, None)
    assert "Sandbox identities: 9 of 10 free for new Connect users" in capsys.readouterr().out


def test_only_the_bundled_emulator_counts_as_the_emulator(tmp_path: Path) -> None:
    bundled = Settings(environment="development", data_dir=tmp_path)
    assert bundled.uses_bundled_emulator("vbank")
    moved = {b: f"http://localhost:8200/{b}" for b in ("vbank", "abank", "sbank")}
    assert Settings(bank_base_urls=moved, bank_emulator_port=8200).uses_bundled_emulator("vbank")
    assert not Settings(bank_base_urls=moved).uses_bundled_emulator("vbank")  # another port
    assert not Settings(bank_base_urls=REAL_BANKS).uses_bundled_emulator("vbank")
    proxied = {b: f"http://127.0.0.1:8100/api/{b}" for b in ("vbank", "abank", "sbank")}
    assert not Settings(bank_base_urls=proxied).uses_bundled_emulator("vbank")


def test_the_demo_store_calls_back_to_the_inbox_and_its_secret_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(environment="development", data_dir=tmp_path, port_offset=10)
    upgrade(settings.effective_database_url)
    engine = build_engine(settings)
    box = SecretBox(settings.fernet_keys)
    credentials = seed(engine, box, tmp_path / "demo-credentials.json", settings)
    # The merchant's first store (the second settles in USDT: tests/operations/test_launcher).
    store_id = uuid.UUID(str(credentials["store_id"]))
    with Session(engine) as session:
        store = session.get_one(Store, store_id)
        assert store.callback_url == "http://127.0.0.1:8110/merchant-inbox/callbacks"
        secret = box.decrypt(store.signing_secret_encrypted)
        # A URL the merchant set themselves is theirs: a later start keeps it.
        store.callback_url = "https://shop.example/hooks"
        session.add(store)
        session.commit()
    again = seed(engine, box, tmp_path / "demo-credentials.json", settings)
    with Session(engine) as session:
        assert session.get_one(Store, store_id).callback_url == "https://shop.example/hooks"
    engine.dispose()
    assert secret.startswith("whsec_") and credentials["store_signing_secret"] == secret
    print_banner(settings, again, None)
    banner = capsys.readouterr().out
    assert f"store signing secret:      {secret}" in banner


def test_the_demo_admin_has_a_second_factor_with_the_demo_secret_in_the_banner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(environment="development", data_dir=tmp_path)
    upgrade(settings.effective_database_url)
    engine = build_engine(settings)
    box = SecretBox(settings.fernet_keys)
    seed(engine, box, tmp_path / "demo-credentials.json", settings)
    again = seed(engine, box, tmp_path / "demo-credentials.json", settings)  # idempotent
    with Session(engine) as session:
        admin = session.exec(select(User).where(User.email == "admin@jivapay.dev")).one()
        factor = session.get_one(SecondFactor, admin.id)
        assert factor.confirmed_at is not None
        assert box.decrypt(factor.secret_encrypted) == DEMO_ADMIN_TOTP_SECRET
        assert DEMO_ADMIN_TOTP_SECRET not in factor.secret_encrypted
    engine.dispose()
    print_banner(settings, again, None)
    banner = capsys.readouterr().out
    assert f"admin second factor — DEMO secret, local only: {DEMO_ADMIN_TOTP_SECRET}" in banner
    assert len(pyotp.TOTP(DEMO_ADMIN_TOTP_SECRET).now()) == 6  # a valid base32 secret
