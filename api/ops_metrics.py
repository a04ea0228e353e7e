"""The gauges the alerts read that no counter can give: readiness as `/ready` answers it, and
orders their workflow should have moved on by now (`deploy/prometheus/alerts.yml`).

Readiness is probed at scrape time, by whichever process answers, so an alert sees what a
load balancer sees. Overdue orders are read from the database like the other state gauges:
an open order past the deadline its workflow's timer acts on means that workflow is not
running (no worker, a stuck task, a failing activity retried forever).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.metrics import DatabaseStateCollector
from contracts.processing import OrderStatus
from core.metrics import gauge
from models.base import as_utc, utcnow
from models.orders import Order

# The deadline each open status waits on: the workflow moves the order when it passes.
DEADLINES: dict[str, tuple[OrderStatus, ...]] = {
    "expires_at": (OrderStatus.awaiting_payment, OrderStatus.created),
    "trader_deadline_at": (OrderStatus.payment_claimed, OrderStatus.assigned),
    "review_until": (OrderStatus.paid,),
}


class ReadinessCollector(Collector):
    """`/ready`'s answer as gauges: 1 per component up, and the whole (1 = ready)."""

    def __init__(self, components: Mapping[str, Mapping[str, object]]) -> None:
        self._components = components

    def collect(self) -> Iterator[Any]:
        up = [(name, int(c["status"] == "up")) for name, c in self._components.items()]
        yield gauge(
            "jivapay_dependency_up",
            "Each dependency /ready checks (database, temporal, worker, s3, redis): 1 up",
            ["component"],
            up,
        )
        yield gauge("jivapay_ready", "1 when /ready answers 200", [], [(all(u for _, u in up),)])


class OverdueOrdersCollector(DatabaseStateCollector):
    """Open orders past their deadline, by kind: how many, and the longest overdue (read at
    scrape time and cached like the other state gauges)."""

    def _read(self) -> list[Any]:
        now = utcnow()
        counts: dict[str, int] = {"payin": 0, "payout": 0}
        oldest: dict[str, datetime] = {}
        with Session(self._engine) as session:
            for column, statuses in DEADLINES.items():
                deadline = getattr(Order, column)
                rows = session.exec(
                    select(Order.kind, func.count(), func.min(deadline))
                    .where(col(Order.status).in_(statuses), deadline < now)
                    .group_by(col(Order.kind))
                ).all()
                for kind, number, first in rows:
                    counts[str(kind)] = counts.get(str(kind), 0) + number
                    first = as_utc(first)
                    oldest[str(kind)] = min(oldest.get(str(kind), first), first)
        return [
            gauge(
                "jivapay_orders_past_deadline",
                "Open orders past the deadline their workflow acts on, by kind",
                ["kind"],
                list(counts.items()),
            ),
            gauge(
                "jivapay_orders_past_deadline_seconds",
                "How long the most overdue open order is past its deadline, by kind (0: none)",
                ["kind"],
                [(k, (now - oldest[k]).total_seconds() if k in oldest else 0) for k in counts],
            ),
        ]
