"""`make run`'s demo data on the default database: the demo Connect user holds the first
sandbox identity of the configured team, whatever BANK_CLIENT_ID says."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from connect.identities import identity_of
from core.db import build_engine
from core.migrate import upgrade
from core.security import SecretBox
from core.settings import Settings
from launcher.seed import seed
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
