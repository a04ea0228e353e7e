"""The gauges the alerts were missing, on real services: readiness as `/ready` answers it,
open orders past their deadline, and the database pool in use."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

import httpx
from sqlmodel import Session

from api.ops_metrics import OverdueOrdersCollector
from contracts.processing import OrderKind, OrderStatus
from core.context import ServiceContext
from core.metrics import registry, render
from models.base import utcnow
from models.merchants import Store
from models.orders import Order
from tests.processing.conftest import make_store, new_currency


def sample(scrape: str, name: str, labels: str = "") -> float | None:
    pattern = rf"^{re.escape(name)}{re.escape('{' + labels + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, scrape, re.MULTILINE)
    return float(found.group(1)) if found else None


async def test_metrics_say_what_ready_says(api: httpx.AsyncClient) -> None:
    components = (await api.get("/ready")).json()["components"]
    scrape = (await api.get("/metrics")).text
    seen = {
        name: sample(scrape, "jivapay_dependency_up", f'component="{name}"') for name in components
    }
    assert seen["database"] == 1.0
    # The worker's heartbeat is the one answer that can change between the two calls.
    expected = {name: float(c["status"] == "up") for name, c in components.items()}
    assert {k: v for k, v in seen.items() if k != "worker"} == {
        k: v for k, v in expected.items() if k != "worker"
    }
    assert sample(scrape, "jivapay_ready") == float(all(seen.values()))


def _order(ctx: ServiceContext, status: OrderStatus, **deadlines: datetime) -> None:
    store_kit = make_store(ctx, new_currency(ctx))
    with Session(ctx.engine) as session:
        store = session.get(Store, store_kit.store_id)
        assert store is not None
        order = Order(
            kind=OrderKind.payin,
            store_id=store.id,
            merchant_id=store.merchant_id,
            merchant_order_id=uuid.uuid4().hex,
            idempotency_key=uuid.uuid4().hex,
            request_hash="0" * 64,
            requested_amount_minor=150_000,
            amount_minor=150_000,
            currency=store_kit.currency,
            status=status,
        )
        for column, at in deadlines.items():
            setattr(order, column, at)
        session.add(order)
        session.commit()


def _overdue(ctx: ServiceContext) -> tuple[float, float]:
    scrape = render(OverdueOrdersCollector(ctx.engine)).decode()
    count = sample(scrape, "jivapay_orders_past_deadline", 'kind="payin"')
    seconds = sample(scrape, "jivapay_orders_past_deadline_seconds", 'kind="payin"')
    assert count is not None and seconds is not None
    return count, seconds


def test_an_open_order_past_its_deadline_is_counted(ctx: ServiceContext) -> None:
    before, _ = _overdue(ctx)
    now = utcnow()
    # Not overdue: a deadline still ahead, and a finished order whose deadline passed.
    _order(ctx, OrderStatus.awaiting_payment, expires_at=now + timedelta(minutes=10))
    _order(ctx, OrderStatus.expired, expires_at=now - timedelta(hours=1))
    assert _overdue(ctx)[0] == before
    # Overdue: waiting for payment 20 minutes past the customer's deadline; claimed paid and
    # 15 minutes past the trader's.
    _order(ctx, OrderStatus.awaiting_payment, expires_at=now - timedelta(minutes=20))
    _order(ctx, OrderStatus.payment_claimed, trader_deadline_at=now - timedelta(minutes=15))
    count, seconds = _overdue(ctx)
    assert count == before + 2
    assert seconds >= 20 * 60


def test_the_pool_gauge_follows_connections_in_use(ctx: ServiceContext) -> None:
    pool = ctx.engine.pool

    def in_use() -> float | None:
        return registry().get_sample_value("jivapay_db_pool_connections_in_use")

    with ctx.engine.connect():
        assert pool.checkedout() >= 1  # type: ignore[attr-defined]
        assert in_use() == pool.checkedout()  # type: ignore[attr-defined]
    assert in_use() == pool.checkedout()  # type: ignore[attr-defined]
    most = registry().get_sample_value("jivapay_db_pool_connections_max")
    assert most == pool.size() + pool._max_overflow  # type: ignore[attr-defined]
