"""The merchant cabinet: stores, their callback URLs and API keys, balances (`/merchant`,
`api.pages.merchant_stores`), orders (the API's filters, keyset pages, CSV), an order with
its callback deliveries and re-send, the statement with its running balance, and every
delivery.

The services of `/api/merchant` and the gateway's callback routes, the store taken from the
signed-in merchant (`merchants.owned_store`): another merchant's store or order is not found,
as in the API.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from pydantic import ValidationError, validate_call
from sqlmodel import Session

from api.errors import domain_status
from api.pages import merchant_stores
from api.pages.forms import field_errors, one_line
from api.pages.merchant_stores import account, in_session, private_page
from api.pages.render import back, page
from api.pages.session import PageMerchant, local_path
from api.routes.merchant_cabinet import order_filter
from contracts.processing import OrderKind, OrderStatus
from core.errors import DomainError, NotFound
from models.cabinet import DeliveryRow
from models.merchants import Store, StorePublic
from models.orders import DeliveryStatus, Order
from processing.accounts import cabinet, merchants
from processing.callbacks import deliveries
from processing.errors import OrderNotFound
from processing.views import payin_public, payout_public

router = APIRouter(include_in_schema=False)
# The stores page and its forms: a module of their own.
router.include_router(merchant_stores.router)
ORDERS = "/merchant/orders"
# The API's default pages: orders, statement lines, deliveries.
PAGE_SIZE, STATEMENT_LINES, DELIVERIES = 50, 200, 100
# The API's own order filter (names, types, bounds), checked here rather than by FastAPI: a
# form sends an empty string for each field left blank, and a page answers with a message.
FILTER_NAMES = tuple(inspect.signature(order_filter).parameters)
checked_filter: Callable[..., cabinet.OrderFilter] = validate_call(order_filter)
Cursor = Annotated[str, Query(max_length=49)]  # the API's next_cursor


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _given(request: Request) -> dict[str, str]:
    """The order filter's fields the query fills in (blank ones left to their defaults)."""
    query = request.query_params
    return {name: query[name].strip() for name in FILTER_NAMES if query.get(name, "").strip()}


@router.get(ORDERS, response_class=HTMLResponse)
async def orders(request: Request, user: PageMerchant, cursor: Cursor = "") -> HTMLResponse:
    """Orders, newest first, with the API's filters, a page at a time."""
    given, shown, status_code = _given(request), {}, 200
    items: list[Any] = []
    following = None
    try:
        f = checked_filter(**given)
        items, following = await in_session(
            request,
            lambda session: cabinet.orders_page(
                session, user_id=user.id, f=f, cursor=cursor or None, limit=PAGE_SIZE
            ),
        )
    except ValidationError as exc:
        status_code, shown["error"] = 422, one_line(field_errors(exc))
    except DomainError as exc:
        status_code, shown["error"] = domain_status(exc), exc.message
    mine = await in_session(request, lambda session: account(session, user.id))
    return private_page(
        request,
        "merchant/orders.html",
        user,
        status_code,
        stores=mine["stores"],
        items=items,
        given=given,
        kinds=list(OrderKind),
        statuses=list(OrderStatus),
        csv_url=f"{ORDERS}.csv?{urlencode(given)}",
        next_url=f"{ORDERS}?{urlencode({**given, 'cursor': following})}" if following else None,
        **shown,
    )


@router.get("/merchant/orders.csv")
async def orders_csv(request: Request, user: PageMerchant) -> Response:
    """The filtered orders as the API's CSV, streamed."""
    try:
        f = checked_filter(**_given(request))
    except ValidationError as exc:
        return back(ORDERS, error=one_line(field_errors(exc)))
    session = Session(request.app.state.ctx.engine)

    def checked() -> Iterator[str]:
        rows = cabinet.orders_csv(session, user_id=user.id, f=f)
        session.commit()  # checked: no connection is held until the first row is read
        return rows

    try:
        rows = await run_in_threadpool(checked)
    except Exception as exc:
        await run_in_threadpool(session.close)
        if isinstance(exc, DomainError):
            return back(ORDERS, error=exc.message)
        raise

    def stream() -> Iterator[str]:
        try:
            yield from rows
        finally:
            session.close()

    headers = {
        "Content-Disposition": 'attachment; filename="orders.csv"',
        **merchant_stores.PRIVATE,
    }
    return StreamingResponse(stream(), media_type="text/csv", headers=headers)


def _owned(session: Session, user_id: uuid.UUID, order_id: uuid.UUID) -> tuple[Order, Store]:
    """The order and its store, when the store is this merchant's; otherwise not found."""
    order = session.get(Order, order_id)
    if order is None:
        raise OrderNotFound()
    try:
        return order, merchants.owned_store(session, user_id=user_id, store_id=order.store_id)
    except NotFound as exc:
        raise OrderNotFound() from exc


def _detail(session: Session, user_id: uuid.UUID, order_id: uuid.UUID) -> dict[str, Any]:
    """The order as the gateway shows it to its store, and its deliveries with attempts."""
    order, store = _owned(session, user_id, order_id)
    view = payout_public if order.kind == OrderKind.payout else payin_public
    return {
        "order": view(session, order),
        "store": StorePublic.model_validate(store),
        "deliveries": deliveries.deliveries(
            session, store_id=store.id, order_id=order.id, kind=order.kind
        ),
    }


@router.get(ORDERS + "/{order_id}", response_class=HTMLResponse)
async def order(request: Request, user: PageMerchant, order_id: str) -> HTMLResponse:
    """One order: amounts, its dates and status, and its callback deliveries with attempts."""
    found = _uuid(order_id)
    try:
        if found is None:
            raise OrderNotFound()
        shown = await in_session(request, lambda session: _detail(session, user.id, found))
    except NotFound as exc:
        return page(request, "merchant/not_found.html", user, status_code=404, error=exc.message)
    return private_page(request, "merchant/order.html", user, **shown)


@router.post(ORDERS + "/{order_id}/callbacks/{event_id}/resend")
async def resend(
    request: Request,
    user: PageMerchant,
    order_id: uuid.UUID,
    event_id: str,
    next: Annotated[str, Form()] = "",
) -> Response:
    """Send a callback event again (the gateway's re-send: same id and body)."""
    ours = (local_path(next) or "").startswith("/merchant")  # never a redirect elsewhere
    target = next if ours else f"{ORDERS}/{order_id}"
    ctx = request.app.state.ctx
    try:
        found, store = await in_session(request, lambda session: _owned(session, user.id, order_id))
        try:
            client = await ctx.temporal.get()
        except Exception:  # the API answers 503 here
            return back(target, error="Workflow engine is unavailable, try again shortly")
        await deliveries.resend(
            ctx, client, store_id=store.id, order_id=found.id, event_id=event_id, kind=found.kind
        )
    except DomainError as exc:
        return back(target, error=exc.message)
    return back(target, notice=f"Callback {event_id} is being sent again")


def _statement(
    session: Session, user_id: uuid.UUID, store_id: str, currency: str, cursor: str
) -> dict[str, Any]:
    """One store account's statement; the first store in its own currency unless chosen."""
    stores: list[StorePublic] = account(session, user_id)["stores"]
    chosen = _uuid(store_id) if store_id else (stores[0].id if stores else None)
    own = next((store for store in stores if store.id == chosen), None)
    currency = currency or (own.currency if own else "")
    choices = {store.currency for store in stores} | ({currency} if currency else set())
    shown: dict[str, Any] = {"stores": stores, "currencies": sorted(choices), "chosen": chosen}
    shown |= {"currency": currency, "statement": None, "next_url": None}
    try:
        if chosen is None:
            if store_id:
                raise NotFound("Store not found", code="store_not_found")
            return shown
        found = cabinet.statement(
            session,
            user_id=user_id,
            store_id=chosen,
            currency=currency,
            cursor=cursor or None,
            limit=STATEMENT_LINES,
        )
    except DomainError as exc:
        return shown | {"error": exc.message, "status_code": domain_status(exc)}
    if found.next_cursor:
        query = {"store_id": chosen, "currency": currency, "cursor": found.next_cursor}
        shown["next_url"] = f"/merchant/statement?{urlencode(query)}"
    return shown | {"statement": found}


@router.get("/merchant/statement", response_class=HTMLResponse)
async def statement(
    request: Request,
    user: PageMerchant,
    store_id: str = "",
    currency: str = "",
    cursor: Cursor = "",
) -> HTMLResponse:
    """A store account's lines, oldest first, each with the balance after it."""
    shown = await in_session(
        request, lambda session: _statement(session, user.id, store_id, currency, cursor)
    )
    status_code = shown.pop("status_code", 200)
    return private_page(request, "merchant/statement.html", user, status_code, **shown)


@router.get("/merchant/callbacks", response_class=HTMLResponse)
async def callbacks(request: Request, user: PageMerchant, status: str = "") -> HTMLResponse:
    """Callback deliveries across all orders, newest first, by status; re-sent from here."""
    statuses = [value.value for value in DeliveryStatus]
    here = "/merchant/callbacks" + (f"?{urlencode({'status': status})}" if status else "")
    shown: dict[str, Any] = {"statuses": statuses, "status": status, "here": here, "rows": []}
    if status and status not in statuses:
        error = f"status must be one of: {', '.join(statuses)}"
        return private_page(request, "merchant/callbacks.html", user, 422, **shown, error=error)

    def read(session: Session) -> list[DeliveryRow]:
        try:
            return cabinet.deliveries(
                session, user_id=user.id, status=status or None, limit=DELIVERIES
            )
        except NotFound:  # no merchant account yet
            return []

    shown["rows"] = await in_session(request, read)
    return private_page(request, "merchant/callbacks.html", user, **shown)
