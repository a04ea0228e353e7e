"""Settings refuse unsafe defaults outside development."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from core import security
from core.settings import Settings


def test_default_jwt_secret_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(environment="production", fernet_key=Fernet.generate_key().decode())


def test_default_fernet_key_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="FERNET_KEY"):
        Settings(environment="production", jwt_secret="x" * 40)


def test_short_jwt_secret_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(jwt_secret="short")


def test_development_defaults_and_database_urls() -> None:
    dev = Settings(environment="development", database_url="")
    assert dev.effective_database_url.startswith("sqlite:///")
    assert dev.effective_database_url.endswith("jivapay.sqlite3")
    pg = Settings(database_url="postgresql://u@h:5432/db")
    assert pg.effective_database_url == "postgresql+psycopg://u@h:5432/db"
    assert Settings(database_url="postgres://u@h/db").effective_database_url.startswith(
        "postgresql+psycopg://"
    )


@pytest.mark.parametrize("environment", ["development", "production"])
def test_the_cheapest_argon2_profile_is_refused_outside_the_suite(environment: str) -> None:
    with pytest.raises(ValidationError, match="ARGON2_PROFILE=cheapest"):
        Settings(
            environment=environment,
            argon2_profile="cheapest",
            jwt_secret="x" * 40,
            fernet_key=Fernet.generate_key().decode(),
        )


def test_passwords_are_hashed_with_rfc_9106_by_default_and_either_profile_verifies() -> None:
    default = Settings(environment="development").argon2_profile
    before = security.current_password_profile()
    try:
        security.configure_password_hashing(default)
        strong = security.hash_password("correct horse")
        assert strong.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        security.configure_password_hashing("cheapest")
        cheap = security.hash_password("correct horse")
        assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
        assert security.verify_password("correct horse", strong)
        assert not security.verify_password("wrong horse", strong)
        security.configure_password_hashing(default)
        assert security.verify_password("correct horse", cheap)
        assert not security.verify_password("correct horse", None)
    finally:
        security.configure_password_hashing(before)
