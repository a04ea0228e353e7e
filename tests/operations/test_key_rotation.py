"""Rotating keys without an outage: Fernet keys (MultiFernet + re-encryption) and JWT secrets."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlmodel import Session, select

from core.db import build_engine
from core.migrate import upgrade
from core.security import (
    InvalidTokenError,
    SecretBox,
    create_access_token,
    decode_access_token,
)
from core.settings import Settings
from launcher.rotate_keys import rotate_all
from models.connect import BankToken
from models.merchants import Merchant, Store
from models.users import Role, User
from tests.factories import create_user


def test_fernet_rotation_reencrypts_every_secret_at_rest(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings(
        environment="test", data_dir=tmp_path, fernet_key=old, jwt_secret=secrets.token_urlsafe(48)
    )
    upgrade(settings.effective_database_url)
    engine = build_engine(settings)
    before = SecretBox(old)
    owner = create_user(engine, Role.merchant)
    with Session(engine) as session:
        merchant = session.exec(select(Merchant).where(Merchant.owner_user_id == owner.id)).one()
        session.add(
            Store(
                name="Rotating",
                merchant_id=merchant.id,
                api_key_prefix="jp_live_x",
                api_key_hash=secrets.token_hex(32),
                signing_secret_encrypted=before.encrypt("whsec_signing"),
                previous_signing_secret_encrypted=before.encrypt("whsec_previous"),
            )
        )
        session.add(
            BankToken(
                bank_code="vbank",
                token_encrypted=before.encrypt("bank-token"),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
        )
        session.commit()

    counts = rotate_all(engine, SecretBox([new, old]))

    assert counts["stores.signing_secret_encrypted"] == 1
    assert counts["stores.previous_signing_secret_encrypted"] == 1
    assert counts["bank_tokens.token_encrypted"] == 1
    after, retired = SecretBox(new), SecretBox(old)
    with Session(engine) as session:
        store = session.exec(select(Store)).one()
        token = session.get(BankToken, "vbank")
        assert token is not None
        assert after.decrypt(store.signing_secret_encrypted) == "whsec_signing"
        assert after.decrypt(token.token_encrypted) == "bank-token"
        with pytest.raises(ValueError):
            retired.decrypt(store.signing_secret_encrypted)
        assert session.exec(select(User)).first() is not None
    engine.dispose()


def _settings(jwt_secret: str) -> Settings:
    return Settings(
        environment="test", jwt_secret=jwt_secret, fernet_key=Fernet.generate_key().decode()
    )


def test_a_jwt_rotation_keeps_issued_tokens_valid_until_the_old_secret_goes() -> None:
    old, new = secrets.token_urlsafe(48), secrets.token_urlsafe(48)
    issued = create_access_token(_settings(old), uuid.uuid4(), "admin")
    overlap = _settings(f"{new},{old}")
    assert decode_access_token(overlap, issued).role == "admin"
    fresh = create_access_token(overlap, uuid.uuid4(), "admin")
    assert decode_access_token(_settings(new), fresh).role == "admin"
    with pytest.raises(InvalidTokenError):
        decode_access_token(_settings(new), issued)
