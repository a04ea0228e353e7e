"""The minimal admin's read-only order pages: orders by status and kind, flagged pay-ins,
statement credits, and one order with its timeline, match report and postings.

Same services as `/api/admin/orders/…` and the statement bridge's admin reads; the list of
orders by status is a small read of the models (the API has no staff-wide list).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from api.pages.render import back, page
from api.pages.session import PageStaff
from contracts.processing import OrderKind, OrderStatus
from core.errors import DomainError
from models.amounts import to_decimal
from models.orders import Order
from models.statement import CreditOutcome
from processing.accounts import admin
from processing.bridge import links as statement_links
from processing.bridge.statement import AMBIGUOUS_FLAG, NEAR_AMOUNT_FLAG, UNVERIFIED_FLAG
from processing.orders import disputes
from processing.orders.evidence import order_files
from processing.orders.payins import ANY_ORDER
from processing.views import minor_units

router = APIRouter(include_in_schema=False)
LIMIT = 100
FLAGS = (UNVERIFIED_FLAG, NEAR_AMOUNT_FLAG, AMBIGUOUS_FLAG)
STATUSES = [s.value for s in OrderStatus]
KINDS = [k.value for k in OrderKind]
OUTCOMES = [o.value for o in CreditOutcome]


def latest_orders(
    session: Session, *, status: str | None, kind: str | None, limit: int = LIMIT
) -> list[dict[str, Any]]:
    """Orders newest first, optionally of one status and kind (read-only, as plain rows)."""
    query = select(Order).order_by(col(Order.created_at).desc(), col(Order.id)).limit(limit)
    if status:
        query = query.where(Order.status == OrderStatus(status))
    if kind:
        query = query.where(Order.kind == OrderKind(kind))
    units: dict[str, int] = {}
    rows = []
    for order in session.exec(query).all():
        if order.currency not in units:
            units[order.currency] = minor_units(session, order.currency)
        rows.append(
            {
                "id": order.id,
                "kind": order.kind.value,
                "status": order.status.value,
                "amount": to_decimal(order.amount_minor, units[order.currency]),
                "currency": order.currency,
                "reference": order.merchant_order_id,
                "at": order.created_at,
                "flags": order.flags or [],
            }
        )
    return rows


def flagged_orders(session: Session, flag: str) -> list[dict[str, Any]]:
    """Pay-ins carrying `flag`, newest first (`GET /api/admin/flagged-orders`)."""
    return [
        {
            "id": row.id,
            "kind": OrderKind.payin.value,
            "status": row.status,
            "amount": row.amount,
            "currency": row.currency,
            "reference": "",
            "at": row.updated_at,
            "flags": row.flags,
        }
        for row in statement_links.flagged(session, flag=flag, limit=LIMIT)
    ]


def flagged_count(session: Session) -> int:
    """Distinct pay-ins carrying any flag the statement bridge sets."""
    return statement_links.flagged_count(session, FLAGS)


@router.get("/admin/orders", response_class=HTMLResponse)
async def orders(
    request: Request, user: PageStaff, status: str = "", kind: str = "", flag: str = ""
) -> HTMLResponse:
    """Orders by status and kind, newest first (or the pay-ins carrying one flag)."""
    status = status if status in STATUSES else ""
    kind = kind if kind in KINDS else ""
    flag = flag if flag in FLAGS else ""
    ctx = request.app.state.ctx

    def read() -> list[dict[str, Any]]:
        with Session(ctx.engine) as session:
            if flag:
                return flagged_orders(session, flag)
            return latest_orders(session, status=status or None, kind=kind or None)

    rows = await run_in_threadpool(read)
    return page(
        request,
        "admin/orders.html",
        user,
        rows=rows,
        status=status,
        kind=kind,
        flag=flag,
        statuses=STATUSES,
        kinds=KINDS,
        flags=FLAGS,
        limit=LIMIT,
    )


@router.get("/admin/orders/{order_id}", response_class=HTMLResponse)
async def order(request: Request, user: PageStaff, order_id: uuid.UUID) -> Response:
    """One order (requisite number masked), its timeline, match report and postings."""
    ctx = request.app.state.ctx

    def read() -> dict[str, Any]:
        view = disputes.order_view(ctx, order_id, ANY_ORDER)
        with Session(ctx.engine) as session:
            return {
                "view": view,
                "report": admin.match_report(session, order_id=order_id),
                "timeline": admin.timeline(session, order_id=order_id),
                "postings": admin.postings(session, order_id=order_id),
                "files": order_files(session, order_id),
            }

    try:
        data = await run_in_threadpool(read)
    except DomainError as exc:
        return back("/admin/orders", error=exc.message)
    return page(request, "admin/order.html", user, **data)


@router.get("/admin/credits", response_class=HTMLResponse)
async def credits(request: Request, user: PageStaff, outcome: str = "orphan") -> HTMLResponse:
    """Statement credits as decided, newest first (`orphan`: money no open order took)."""
    outcome = outcome if outcome in OUTCOMES else ""
    ctx = request.app.state.ctx

    def read() -> list[Any]:
        with Session(ctx.engine) as session:
            chosen = CreditOutcome(outcome) if outcome else None
            return list(statement_links.credits(session, outcome=chosen, limit=LIMIT))

    rows = await run_in_threadpool(read)
    return page(request, "admin/credits.html", user, rows=rows, outcome=outcome, outcomes=OUTCOMES)
