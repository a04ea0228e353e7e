"""State metrics read from the database at scrape time: the same answer from any process.

Orders by kind and status, consents by status, connections by status and each bank's sync
lag (seconds since the newest successful sync of any user). Cached briefly, so frequent
scrapes cost one set of GROUP BY queries every few seconds.

At production size (PostgreSQL's statistics put a table over `ESTIMATE_ABOVE` rows) the
finished orders and the deliveries are the planner's estimates (rows × each status's
frequency in `pg_stats`), not a count of every row on every scrape; open orders, the few
an operator watches, stay exact (the status index reads only them).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.registry import Collector
from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from contracts.processing import TERMINAL_STATUSES, OrderStatus
from core.metrics import gauge
from models.base import as_utc, utcnow
from models.connect import BankConnection, Consent
from models.orders import CallbackDelivery, Order

CACHE_SECONDS = 5.0
ESTIMATE_ABOVE = 100_000
_TERMINAL = sorted(status.value for status in TERMINAL_STATUSES)
# Listed, not `NOT IN` the terminal ones: an IN list is the status index's range.
_UNFINISHED = sorted(status.value for status in OrderStatus if status not in TERMINAL_STATUSES)


def estimated_counts(session: Session, table: str, column: str) -> list[tuple[str, float]]:
    """Rows per value of `column`, estimated from the statistics; [] on SQLite, on a table
    under `ESTIMATE_ABOVE` rows or one not analyzed yet (the caller counts instead)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    row = session.execute(
        text(
            "SELECT c.reltuples, s.most_common_vals::text::text[], s.most_common_freqs"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname"
            " AND s.attname = :column WHERE c.oid = to_regclass(:table)"
        ),
        {"table": table, "column": column},
    ).first()
    if row is None or row[0] < ESTIMATE_ABOVE or row[1] is None:
        return []
    total, values, freqs = row
    return [(value, round(total * freq)) for value, freq in zip(values, freqs, strict=True)]


def order_counts(session: Session) -> list[tuple[str, float]]:
    """Orders by status: open ones counted, finished ones estimated on a big table."""
    estimated = [
        (status, n)
        for status, n in estimated_counts(session, "orders", "status")
        if status in _TERMINAL
    ]
    query = select(Order.status, func.count()).group_by(col(Order.status))
    if estimated:
        query = query.where(col(Order.status).in_(_UNFINISHED))
    return estimated + [(str(status), n) for status, n in session.exec(query)]


class DatabaseStateCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._cached: tuple[float, list[Any]] = (0.0, [])

    def collect(self) -> Iterator[Any]:
        taken, families = self._cached
        if time.monotonic() - taken > CACHE_SECONDS:
            families = self._read()
            self._cached = (time.monotonic(), families)
        yield from families

    def _read(self) -> list[Any]:
        with Session(self._engine) as session:
            orders = order_counts(session)
            consents = session.exec(
                select(Consent.kind, Consent.status, func.count()).group_by(
                    col(Consent.kind), col(Consent.status)
                )
            ).all()
            connections = session.exec(
                select(BankConnection.bank_code, BankConnection.status, func.count()).group_by(
                    col(BankConnection.bank_code), col(BankConnection.status)
                )
            ).all()
            deliveries = estimated_counts(session, "callback_deliveries", "status") or list(
                session.exec(
                    select(CallbackDelivery.status, func.count()).group_by(
                        col(CallbackDelivery.status)
                    )
                )
            )
            newest = session.exec(
                select(BankConnection.bank_code, func.max(BankConnection.last_sync_at)).group_by(
                    col(BankConnection.bank_code)
                )
            ).all()
        now = utcnow()
        lag = [(bank, (now - as_utc(at)).total_seconds()) for bank, at in newest if at]
        return [
            gauge(
                "jivapay_orders",
                "Orders by kind and status",
                ["kind", "status"],
                [("payin", str(status), n) for status, n in orders],
            ),
            gauge(
                "jivapay_consents",
                "Consents by kind and status",
                ["kind", "status"],
                [(str(k), str(s), n) for k, s, n in consents],
            ),
            gauge(
                "jivapay_bank_connections",
                "Users' bank connections by status",
                ["bank", "status"],
                [(b, str(s), n) for b, s, n in connections],
            ),
            gauge(
                "jivapay_callback_deliveries",
                "Merchant callback deliveries by status",
                ["status"],
                [(str(status), n) for status, n in deliveries],
            ),
            gauge(
                "jivapay_sync_lag_seconds",
                "Seconds since the newest successful sync",
                ["bank"],
                lag,
            ),
        ]
