"""`/metrics` reads a big table's rows per status from PostgreSQL's statistics instead of
counting every row on every scrape; a small or never-analyzed table is counted."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from api import metrics
from core.context import ServiceContext
from tests.conftest import TEST_DATABASE


@pytest.mark.skipif(TEST_DATABASE != "postgresql", reason="pg_stats is PostgreSQL's")
async def test_statuses_come_from_statistics_once_a_table_is_big(
    ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(ctx.engine) as session:
        session.execute(text("CREATE TEMP TABLE status_sample (status varchar(16))"))
        session.execute(
            text(
                "INSERT INTO status_sample SELECT CASE WHEN g % 10 < 7 THEN 'done' ELSE 'open'"
                " END FROM generate_series(1, 2000) g"
            )
        )
        # Never analyzed: no estimate, the caller counts.
        assert metrics.estimated_counts(session, "status_sample", "status") == []
        session.execute(text("ANALYZE status_sample"))
        monkeypatch.setattr(metrics, "ESTIMATE_ABOVE", 1000)
        estimated = dict(metrics.estimated_counts(session, "status_sample", "status"))
        assert estimated == {"done": 1400, "open": 600}
        # Under the threshold: counted, not estimated.
        monkeypatch.setattr(metrics, "ESTIMATE_ABOVE", 5000)
        assert metrics.estimated_counts(session, "status_sample", "status") == []


async def test_orders_by_status_are_exact_on_a_small_table(ctx: ServiceContext) -> None:
    with Session(ctx.engine) as session:
        counted = dict(
            session.execute(text("SELECT status, COUNT(*) FROM orders GROUP BY status")).all()
        )
        assert dict(metrics.order_counts(session)) == counted
