"""Migrations go up, all the way down and up again on PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from core.migrate import alembic_config, downgrade, upgrade
from models import metadata
from tests.conftest import _pg_url, create_database, drop_database


@pytest.fixture
def scratch_pg() -> Iterator[str]:
    name = create_database("jivapay_migrate")
    yield _pg_url(name).replace("postgresql://", "postgresql+psycopg://")
    drop_database(name)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    upgrade(url)
    assert _tables(url) == set(metadata.tables)
    downgrade(url, "base")
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == set(metadata.tables)


def test_round_trip_postgres(scratch_pg: str) -> None:
    _round_trip(scratch_pg)


def test_round_trip_sqlite(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'm.sqlite3'}")


def test_constraint_names_follow_convention(scratch_pg: str) -> None:
    upgrade(scratch_pg)
    engine = create_engine(scratch_pg)
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        if table == "alembic_version":
            continue
        assert inspector.get_pk_constraint(table)["name"] == f"pk_{table}"
        for fk in inspector.get_foreign_keys(table):
            assert str(fk["name"]).startswith(f"fk_{table}_")
    engine.dispose()


def test_models_and_migrations_agree(scratch_pg: str) -> None:
    upgrade(scratch_pg)
    # Raises when the tables in models/ differ from what the migrations create.
    command.check(alembic_config(scratch_pg))
