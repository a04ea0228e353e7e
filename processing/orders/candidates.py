"""Which requisites a pay-in's match considers, in what order, and why the others were not.

The static checks (a requisite not approved, a trader offline or switched off, another bank,
an amount out of bounds) are plain column checks: they filter the candidates in SQL, so the
match reads only requisites that could take the order, however many requisites of offline
traders rank ahead of them. The match report still names them: `exclusions` lists the first
few passed over with their reason and counts the rest by reason, from the requisites table
(reference-sized, never the orders).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, not_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models.orders import Order
from models.traders import Requisite, RequisiteStatus, Trader

CANDIDATE_LIMIT = 200
# Passed-over requisites the report names one by one; the rest are counted by reason.
REPORTED_EXCLUSIONS = 20
# Most preferred first; among equals, the least recently used (never used first).
RANK = (
    col(Requisite.priority),
    col(Trader.priority),
    col(Requisite.last_used_at).asc().nulls_first(),
    col(Requisite.id),
)


def static_checks(order: Order) -> list[tuple[ColumnElement[bool], str]]:
    """What a requisite must pass to take the order, each with the reason when it does not
    (the first failed check is the reason reported)."""
    amount = order.requested_amount_minor
    checks: list[tuple[ColumnElement[bool], str]] = [
        (col(Requisite.status) == RequisiteStatus.approved, "requisite_not_approved"),
        (col(Trader.is_active).is_(True), "trader_inactive"),
        (col(Trader.is_online).is_(True), "trader_offline"),
        (col(Trader.traffic_enabled).is_(True), "traffic_off_by_teamlead"),
        (
            and_(col(Trader.payin_enabled).is_(True), col(Requisite.payin_enabled).is_(True)),
            "payin_disabled",
        ),
    ]
    if order.payment_method:
        checks.append(
            (col(Requisite.payment_method) == order.payment_method, "payment_method_mismatch")
        )
    if order.bank_code:
        checks.append((col(Requisite.bank_code) == order.bank_code, "bank_mismatch"))
    within = and_(
        col(Requisite.min_amount_minor) <= amount, col(Requisite.max_amount_minor) >= amount
    )
    checks.append((within, "amount_out_of_bounds"))
    return checks


def of_currency(order: Order) -> list[ColumnElement[bool]]:
    # A blocked requisite is out of matching altogether: not even reported.
    return [
        col(Requisite.currency) == order.currency,
        col(Requisite.status) != RequisiteStatus.blocked,
    ]


def candidates(session: Session, order: Order) -> list[tuple[Requisite, Trader]]:
    """The first CANDIDATE_LIMIT requisites that pass every static check, in RANK order."""
    passes = [check for check, _ in static_checks(order)]
    rows = session.exec(
        select(Requisite, Trader)
        .join(Trader, col(Trader.id) == Requisite.trader_id)
        .where(*of_currency(order), *passes)
        .order_by(*RANK)
        .limit(CANDIDATE_LIMIT)
    ).all()
    return [(requisite, trader) for requisite, trader in rows]


@dataclass(frozen=True)
class Rank:
    """A candidate's place in RANK, as read by the match (before it marks the one it takes
    as used)."""

    requisite_priority: int
    trader_priority: int
    last_used_at: datetime | None
    requisite_id: uuid.UUID

    @classmethod
    def of(cls, requisite: Requisite, trader: Trader) -> Rank:
        return cls(requisite.priority, trader.priority, requisite.last_used_at, requisite.id)

    def ahead(self) -> ColumnElement[bool]:
        """Requisites ranked before this one."""
        last, before_id = col(Requisite.last_used_at), col(Requisite.id) < self.requisite_id
        if self.last_used_at is None:
            by_use = and_(last.is_(None), before_id)
        else:
            used = self.last_used_at
            by_use = or_(last.is_(None), last < used, and_(last == used, before_id))
        tp, rp = col(Trader.priority), col(Requisite.priority)
        by_trader = or_(tp < self.trader_priority, and_(tp == self.trader_priority, by_use))
        return or_(rp < self.requisite_priority, and_(rp == self.requisite_priority, by_trader))


def exclusions(session: Session, order: Order, ahead_of: Rank | None) -> list[dict[str, Any]]:
    """The requisites the static checks kept from the match (those ranked before `ahead_of`,
    the one taken, when there is one): the first REPORTED_EXCLUSIONS with their reason, then
    `{"requisite_id": None, "reason", "count"}` for the rest of each reason."""
    checks = static_checks(order)
    reason = case(*((not_(check), why) for check, why in checks)).label("reason")
    where = [*of_currency(order), not_(and_(*(check for check, _ in checks)))]
    if ahead_of is not None:
        where.append(ahead_of.ahead())
    joined = sa_select(col(Requisite.id), reason).join(
        Trader, col(Trader.id) == Requisite.trader_id
    )
    query = joined.where(*where)
    rows = session.connection().execute(query.order_by(*RANK).limit(REPORTED_EXCLUSIONS + 1))
    listed = [{"requisite_id": str(rid), "reason": why} for rid, why in rows]
    if len(listed) <= REPORTED_EXCLUSIONS:
        return listed
    listed = listed[:REPORTED_EXCLUSIONS]
    shown = Counter(entry["reason"] for entry in listed)
    # Grouped outside: the CASE carries parameters, which PostgreSQL cannot match between
    # a SELECT list and a GROUP BY of the same query.
    reasons = query.subquery()
    counts = session.connection().execute(
        sa_select(reasons.c.reason, func.count()).group_by(reasons.c.reason)
    )
    rest = sorted((why, n - shown[why]) for why, n in counts if n > shown[why])
    return listed + [{"requisite_id": None, "reason": why, "count": n} for why, n in rest]
