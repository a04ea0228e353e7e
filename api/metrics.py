"""State metrics read from the database at scrape time: the same answer from any process.

Orders by kind and status, consents by status, connections by status and each bank's sync
lag (seconds since the newest successful sync of any user). Cached briefly, so frequent
scrapes cost one set of GROUP BY queries every few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.metrics import gauge
from models.base import as_utc, utcnow
from models.connect import BankConnection, Consent
from models.orders import CallbackDelivery, Order

CACHE_SECONDS = 5.0


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
            orders = session.exec(
                select(Order.status, func.count()).group_by(col(Order.status))
            ).all()
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
            deliveries = session.exec(
                select(CallbackDelivery.status, func.count()).group_by(col(CallbackDelivery.status))
            ).all()
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
