"""Running Alembic migrations from code (launcher, tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from core.settings import ROOT_DIR


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT_DIR / "alembic.ini"))
    config.attributes["database_url"] = database_url
    # Keep the caller's logging setup instead of alembic.ini's.
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
