"""The merchant cabinet: orders (filters, pages, CSV), balances, statement, deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.deps import CurrentMerchant, SessionDep
from contracts.processing import OrderKind, OrderStatus
from models.amounts import CURRENCY_PATTERN
from models.cabinet import CURSOR_PATTERN, DeliveryRow, OrdersPage, StatementPage, StoreBalance
from models.inputs import Moment
from models.orders import DeliveryStatus
from processing.accounts import cabinet

router = APIRouter()
MAX_MINOR = 10**15
# `next_cursor` of the previous page: its shape is the whole rule (any such value is a place).
Cursor = Annotated[str | None, Query(pattern=CURSOR_PATTERN, max_length=49)]


def order_filter(
    kind: OrderKind = OrderKind.payin,
    status: OrderStatus | None = None,
    store_id: uuid.UUID | None = None,
    created_from: Moment | None = None,
    created_to: Moment | None = None,
    amount_min_minor: Annotated[int | None, Query(ge=0, le=MAX_MINOR)] = None,
    amount_max_minor: Annotated[int | None, Query(ge=0, le=MAX_MINOR)] = None,
) -> cabinet.OrderFilter:
    return cabinet.OrderFilter(
        kind=kind,
        status=status.value if status else None,
        store_id=store_id,
        created_from=created_from,
        created_to=created_to,
        amount_min_minor=amount_min_minor,
        amount_max_minor=amount_max_minor,
    )


Filter = Annotated[cabinet.OrderFilter, Depends(order_filter)]


@router.get("/orders", response_model=OrdersPage)
def list_orders(
    session: SessionDep,
    user: CurrentMerchant,
    f: Filter,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrdersPage:
    """The merchant's orders, newest first, filtered; `next_cursor` gives the next page."""
    items, following = cabinet.orders_page(
        session, user_id=user.id, f=f, cursor=cursor, limit=limit
    )
    return OrdersPage(items=items, next_cursor=following)


@router.get(
    "/orders.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The filtered orders as CSV"}},
)
def export_orders(session: SessionDep, user: CurrentMerchant, f: Filter) -> StreamingResponse:
    """The filtered orders as CSV, streamed."""
    rows = cabinet.orders_csv(session, user_id=user.id, f=f)
    headers = {"Content-Disposition": 'attachment; filename="orders.csv"'}
    return StreamingResponse(rows, media_type="text/csv", headers=headers)


@router.get("/balances", response_model=list[StoreBalance])
def balances(session: SessionDep, user: CurrentMerchant) -> list[StoreBalance]:
    """Balance, held and available per store and currency."""
    return cabinet.balances(session, user_id=user.id)


@router.get("/stores/{store_id}/statement", response_model=StatementPage)
def statement(
    store_id: uuid.UUID,
    session: SessionDep,
    user: CurrentMerchant,
    currency: Annotated[str, Query(pattern=CURRENCY_PATTERN)] = "RUB",
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> StatementPage:
    """A store account's ledger lines, oldest first, with the running balance."""
    return cabinet.statement(
        session, user_id=user.id, store_id=store_id, currency=currency, cursor=cursor, limit=limit
    )


@router.get("/callbacks", response_model=list[DeliveryRow])
def deliveries(
    session: SessionDep,
    user: CurrentMerchant,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRow]:
    """Callback deliveries across all orders, newest first."""
    return cabinet.deliveries(
        session, user_id=user.id, status=status.value if status else None, limit=limit
    )
