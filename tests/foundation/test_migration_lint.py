"""The migration linter (`make lint`): squawk fails a migration that would block writes on
a big table, and the newest migration passes without exceptions."""

from __future__ import annotations

from pathlib import Path

from launcher.lint_migrations import BASELINE, EXCEPTIONS, render, squawk


def test_squawk_fails_a_blocking_index_on_an_existing_table(tmp_path: Path) -> None:
    bad = tmp_path / "0099.sql"
    bad.write_text("BEGIN;\nCREATE INDEX ix_orders_currency ON orders (currency);\nCOMMIT;\n")
    result = squawk([bad])
    assert result.returncode != 0
    assert "require-concurrent-index-creation" in result.stdout


def test_the_same_index_built_concurrently_passes(tmp_path: Path) -> None:
    good = tmp_path / "0099.sql"
    good.write_text(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_currency ON orders (currency);\n"
    )
    result = squawk([good])
    assert result.returncode == 0, result.stdout


def test_scale_indexes_are_built_concurrently_and_pass_as_they_are(tmp_path: Path) -> None:
    sql = render("0025", "0024")
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_store_merchant_order_id" in sql
    assert "0025" not in EXCEPTIONS and "0025" > BASELINE
    path = tmp_path / "0025.sql"
    path.write_text(sql)
    result = squawk([path])
    assert result.returncode == 0, result.stdout
