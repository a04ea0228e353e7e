"""Settings refuse unsafe defaults outside development."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

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
