"""Processing administration: requisite approval and limits, rates, order history (direct
deposits: `processing/funds/deposits`)."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

from core.errors import Invalid, NotFound
from models.ledger import Posting, PostingPublic
from models.merchants import Store
from models.orders import Order, OrderEvent
from models.payins import MatchReport
from models.traders import Requisite, RequisiteStatus, Trader
from processing.orders.payins import ANY_ORDER, owned_order
from processing.platform.reference_rules import CURRENCY, require_usable
from processing.views import minor_units, posting_public

T = TypeVar("T", bound=SQLModel)


def get_or_404(session: Session, model: type[T], object_id: uuid.UUID, what: str) -> T:
    row = session.get(model, object_id)
    if row is None:
        raise NotFound(f"{what} not found", code=f"{what.lower()}_not_found")
    return row


def save(session: Session, row: T) -> T:
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def sent_fields(model: type[SQLModel], body: SQLModel) -> dict[str, Any]:
    """The fields the caller sent; an explicit null is accepted only where the column may be
    empty (it then means "none"), refused with a 422 naming the fields elsewhere."""
    changes = body.model_dump(exclude_unset=True)
    columns = model.__table__.columns  # type: ignore[attr-defined]
    refused = sorted(k for k, v in changes.items() if v is None and not columns[k].nullable)
    if refused:
        raise Invalid(
            f"null is not allowed for {', '.join(refused)}",
            code="null_not_allowed",
            details={"fields": refused},
        )
    return changes


def patch(session: Session, model: type[T], object_id: uuid.UUID, what: str, body: SQLModel) -> T:
    """Apply the fields the caller sent (and only those) to one row."""
    row = get_or_404(session, model, object_id, what)
    row.sqlmodel_update(sent_fields(model, body))
    return save(session, row)


def requisites(session: Session, *, status: RequisiteStatus | None) -> list[Requisite]:
    query = select(Requisite).order_by(col(Requisite.created_at))
    if status is not None:
        query = query.where(Requisite.status == status)
    return list(session.exec(query).all())


def requisites_count(session: Session, *, status: RequisiteStatus) -> int:
    query = select(func.count()).select_from(Requisite).where(Requisite.status == status)
    return int(session.exec(query).one())


def set_requisite_status(
    session: Session, *, requisite_id: uuid.UUID, status: RequisiteStatus
) -> Requisite:
    requisite = get_or_404(session, Requisite, requisite_id, "Requisite")
    requisite.status = status
    return save(session, requisite)


def set_requisite_limits(session: Session, *, requisite_id: uuid.UUID, body: SQLModel) -> Requisite:
    requisite = get_or_404(session, Requisite, requisite_id, "Requisite")
    requisite.sqlmodel_update(sent_fields(Requisite, body))
    if requisite.min_amount_minor > requisite.max_amount_minor:
        raise Invalid("min_amount_minor exceeds max_amount_minor", code="invalid_limits")
    return save(session, requisite)


def update_trader(session: Session, *, trader_id: uuid.UUID, body: SQLModel) -> Trader:
    return patch(session, Trader, trader_id, "Trader", body)


def update_store(session: Session, *, store_id: uuid.UUID, body: SQLModel) -> Store:
    return patch(session, Store, store_id, "Store", body)


def timeline(session: Session, *, order_id: uuid.UUID) -> list[OrderEvent]:
    """Every transition of the order: who, when, from → to, why."""
    owned_order(session, order_id, ANY_ORDER)
    query = select(OrderEvent).where(OrderEvent.order_id == order_id)
    return list(session.exec(query.order_by(col(OrderEvent.seq))).all())


def postings(session: Session, *, order_id: uuid.UUID) -> list[PostingPublic]:
    """Ledger postings of the order, with each leg."""
    order = owned_order(session, order_id, ANY_ORDER)
    units = minor_units(session, order.currency)
    query = select(Posting).where(Posting.order_id == order_id)
    rows = session.exec(query.order_by(col(Posting.created_at), col(Posting.kind))).all()
    return [posting_public(session, posting, units) for posting in rows]


def match_report(session: Session, *, order_id: uuid.UUID) -> MatchReport:
    """Why no requisite was matched (a reason code per candidate considered), and what
    fraud screening decided."""
    return report_of(owned_order(session, order_id, ANY_ORDER))


def report_of(order: Order) -> MatchReport:
    return MatchReport(
        order_id=order.id,
        kind=order.kind,
        status=order.status,
        failure_reason=order.failure_reason,
        rejections=order.match_rejections or [],
        fraud_decision=order.fraud_decision,
        fraud_hits=order.fraud_hits or [],
        flags=order.flags or [],
    )


def set_settlement_currency(
    session: Session, model: type[T], object_id: uuid.UUID, what: str, currency: str | None
) -> T:
    """A store's or trader's settlement currency (None: each order's own); orders created
    from now on fix a rate for it."""
    row = get_or_404(session, model, object_id, what)
    if currency is not None:
        require_usable(session, CURRENCY, currency, field="currency")
    row.settlement_currency = currency
    return save(session, row)
