"""The merchant's own view: orders (filtered, keyset pages, CSV), balances per store and
currency, the statement of a store account with a running balance, callback deliveries.

Everything is scoped to the signed-in merchant's stores; another merchant's ids are 404.
Cursors are the last row's sort key (`CURSOR_PATTERN`), so pages never skip or repeat rows.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import tuple_
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from contracts.processing import ActorType, OrderKind
from core.cursors import decode_cursor, encode_cursor
from core.errors import NotFound
from models.amounts import to_decimal
from models.base import as_utc
from models.cabinet import (
    CabinetPayin,
    CabinetPayout,
    DeliveryRow,
    StatementLine,
    StatementPage,
    StoreBalance,
)
from models.ledger import AccountKind, Entry, LedgerAccount, Posting
from models.merchants import Store
from models.orders import CallbackDelivery, Order
from processing.accounts.merchants import merchant_of
from processing.views import (
    confirmed_by_many,
    merchant_fee,
    minor_units,
    payin_public,
    payout_public,
)

CSV_FIRST_PAGE, CSV_PAGE = 50, 500
CSV_COLUMNS = (
    "id",
    "kind",
    "store_id",
    "merchant_order_id",
    "status",
    "requested_amount",
    "amount",
    "actual_amount",
    "fee",
    "currency",
    "failure_reason",
    "confirmed_by",
    "created_at",
    "finished_at",
    # A store settling in another currency: the rate fixed at creation and the converted amount.
    "settlement_currency",
    "settlement_rate",
    "settlement_amount",
)


@dataclass
class OrderFilter:
    kind: OrderKind = OrderKind.payin
    status: str | None = None
    store_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    amount_min_minor: int | None = None
    amount_max_minor: int | None = None


def _store_ids(session: Session, user_id: uuid.UUID) -> list[uuid.UUID]:
    merchant = merchant_of(session, user_id=user_id)
    return list(session.exec(select(Store.id).where(Store.merchant_id == merchant.id)))


def _orders_query(session: Session, user_id: uuid.UUID, f: OrderFilter) -> SelectOfScalar[Order]:
    """The merchant's orders (or one store's): each shape has its index on (owner, kind,
    created_at, id), so a page reads its rows in order instead of sorting all of them."""
    merchant = merchant_of(session, user_id=user_id)
    query = select(Order).where(Order.merchant_id == merchant.id, Order.kind == f.kind)
    if f.store_id is not None:
        if f.store_id not in _store_ids(session, user_id):
            raise NotFound("Store not found", code="store_not_found")
        query = select(Order).where(Order.store_id == f.store_id, Order.kind == f.kind)
    if f.status is not None:
        query = query.where(Order.status == f.status)
    if f.created_from is not None:
        query = query.where(col(Order.created_at) >= f.created_from)
    if f.created_to is not None:
        query = query.where(col(Order.created_at) < f.created_to)
    if f.amount_min_minor is not None:
        query = query.where(col(Order.amount_minor) >= f.amount_min_minor)
    if f.amount_max_minor is not None:
        query = query.where(col(Order.amount_minor) <= f.amount_max_minor)
    return query


def orders_page(
    session: Session, *, user_id: uuid.UUID, f: OrderFilter, cursor: str | None, limit: int
) -> tuple[list[CabinetPayin | CabinetPayout], str | None]:
    """Newest first; keyset pagination on (created_at, id)."""
    return _page(session, user_id, f, cursor, limit, with_requisite=True)


def _page(
    session: Session,
    user_id: uuid.UUID,
    f: OrderFilter,
    cursor: str | None,
    limit: int,
    *,
    with_requisite: bool,
) -> tuple[list[CabinetPayin | CabinetPayout], str | None]:
    query = _orders_query(session, user_id, f)
    if cursor:
        # A row-value comparison: the index range starts at the cursor (an OR of the two
        # columns is only a filter over every earlier row).
        query = query.where(tuple_(col(Order.created_at), col(Order.id)) < decode_cursor(cursor))
    rows = list(
        session.exec(
            query.order_by(col(Order.created_at).desc(), col(Order.id).desc()).limit(limit + 1)
        )
    )
    more, rows = len(rows) > limit, rows[:limit]
    following = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    confirmed = confirmed_by_many(session, rows)
    return [cabinet_order(session, row, confirmed, with_requisite) for row in rows], following


def cabinet_order(
    session: Session,
    order: Order,
    confirmed: dict[uuid.UUID, ActorType] | None = None,
    with_requisite: bool = True,
) -> CabinetPayin | CabinetPayout:
    """An order as the merchant's lists show it: the public view, its store and fee."""
    if order.kind == OrderKind.payout:
        return CabinetPayout(**payout_public(session, order).model_dump(), store_id=order.store_id)
    fee = merchant_fee(order)
    public = payin_public(session, order, confirmed=confirmed, with_requisite=with_requisite)
    return CabinetPayin(
        **public.model_dump(),
        store_id=order.store_id,
        fee=to_decimal(fee, minor_units(session, order.currency)) if fee is not None else None,
    )


def orders_csv(session: Session, *, user_id: uuid.UUID, f: OrderFilter) -> Iterator[str]:
    """The filtered orders as CSV, produced page by page (never all rows in memory). The
    filter is checked now, before the first byte is sent (a 404 cannot follow a 200)."""
    _orders_query(session, user_id, f)
    return _csv_pages(session, user_id, f)


def _csv_pages(session: Session, user_id: uuid.UUID, f: OrderFilter) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    cursor: str | None = None
    # The first page is small: the first rows go out after one short query, whatever the
    # export's size; the rest follow in pages of CSV_PAGE.
    size = CSV_FIRST_PAGE
    while True:
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        # The CSV has no requisite column: its rows skip that lookup.
        page, cursor = _page(session, user_id, f, cursor, size, with_requisite=False)
        size = CSV_PAGE
        for order in page:
            writer.writerow([_cell(_column(order, c)) for c in CSV_COLUMNS])
        if cursor is None:
            yield buffer.getvalue()
            return


def _column(order: CabinetPayin | CabinetPayout, name: str) -> object:
    if name.startswith("settlement_"):
        return getattr(order.settlement, name.removeprefix("settlement_"), None)
    return getattr(order, name, None)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(getattr(value, "value", value))


def balances(session: Session, *, user_id: uuid.UUID) -> list[StoreBalance]:
    stores = _store_ids(session, user_id)
    query = select(LedgerAccount).where(
        LedgerAccount.kind == AccountKind.store, col(LedgerAccount.owner_id).in_(stores)
    )
    result = []
    for account in session.exec(query.order_by(col(LedgerAccount.currency))):
        units = minor_units(session, account.currency)
        assert account.owner_id is not None  # store accounts always have their store
        result.append(
            StoreBalance(
                store_id=account.owner_id,
                currency=account.currency,
                balance=to_decimal(account.balance_minor, units),
                held=to_decimal(account.held_minor, units),
                available=to_decimal(account.balance_minor - account.held_minor, units),
            )
        )
    return result


def statement(
    session: Session,
    *,
    user_id: uuid.UUID,
    store_id: uuid.UUID,
    currency: str,
    cursor: str | None,
    limit: int,
) -> StatementPage:
    """Ledger lines of one store account, oldest first, each with the balance after it."""
    if store_id not in _store_ids(session, user_id):
        raise NotFound("Store not found", code="store_not_found")
    account = session.exec(
        select(LedgerAccount).where(
            LedgerAccount.kind == AccountKind.store,
            LedgerAccount.owner_id == store_id,
            LedgerAccount.currency == currency,
        )
    ).first()
    units = minor_units(session, currency)
    if account is None:
        zero = to_decimal(0, units)
        return StatementPage(
            store_id=store_id, currency=currency, opening_balance=zero, lines=[], next_cursor=None
        )
    # Lines are read in (time, entry id) order off `ix_ledger_entries_account_posted`; an
    # account with entries not yet dated (written before migration 0026 or by the previous
    # release) is read by its postings' dates instead: the same lines, the same cursors.
    at = col(Entry.posted_at) if _all_dated(session, account.id) else col(Posting.created_at)
    base = (
        select(Entry, Posting)
        .join(Posting, col(Posting.id) == Entry.posting_id)
        .where(Entry.account_id == account.id)
    )
    after = None
    if cursor:
        after = decode_cursor(cursor)
        # The first condition is the index range; the row value the exact cut.
        base = base.where(at >= after[0], tuple_(at, col(Entry.id)) > after)
    opening = 0
    if after is not None:
        earlier = (
            select(func.coalesce(func.sum(Entry.amount_minor), 0))
            .join(Posting, col(Posting.id) == Entry.posting_id)
            .where(Entry.account_id == account.id, at <= after[0])
            .where(tuple_(at, col(Entry.id)) <= after)
        )
        opening = int(session.exec(earlier).one())
    rows = list(session.exec(base.order_by(at, col(Entry.id)).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    rates = _fixed_rates(session, {posting.order_id for _, posting in rows}, currency)
    running, lines = opening, []
    for entry, posting in rows:
        running += entry.amount_minor
        lines.append(
            StatementLine(
                at=posting.created_at,
                posting_kind=posting.kind,
                order_id=posting.order_id,
                amount=to_decimal(entry.amount_minor, units),
                balance_after=to_decimal(running, units),
                rate=rates.get(posting.order_id),
            )
        )
    following = None
    if more:
        entry, posting = rows[-1]
        following = encode_cursor(posting.created_at, entry.id)
    return StatementPage(
        store_id=store_id,
        currency=currency,
        opening_balance=to_decimal(opening, units),
        lines=lines,
        next_cursor=following,
    )


def _all_dated(session: Session, account_id: uuid.UUID) -> bool:
    """No entry of the account waits for its `posted_at` (one probe of the index)."""
    undated = select(Entry.id).where(Entry.account_id == account_id, col(Entry.posted_at).is_(None))
    return session.exec(undated.limit(1)).first() is None


def _fixed_rates(
    session: Session, order_ids: set[uuid.UUID | None], currency: str
) -> dict[uuid.UUID | None, str]:
    """The rate each order fixed for a store settling in `currency` (its lines converted)."""
    ids = [order_id for order_id in order_ids if order_id is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(Order.id, Order.store_rate).where(
            col(Order.id).in_(ids), Order.store_currency == currency
        )
    )
    return {order_id: rate for order_id, rate in rows if rate is not None}


def deliveries(
    session: Session, *, user_id: uuid.UUID, status: str | None, limit: int
) -> list[DeliveryRow]:
    """Callback deliveries across the merchant's orders, newest first: each store's newest
    read from its (store_id, created_at) index, then merged (a merchant has a few stores;
    one query over all of them would sort every delivery they ever had)."""
    rows: list[CallbackDelivery] = []
    for store_id in _store_ids(session, user_id):
        query = select(CallbackDelivery).where(CallbackDelivery.store_id == store_id)
        if status is not None:
            query = query.where(CallbackDelivery.status == status)
        rows += session.exec(query.order_by(col(CallbackDelivery.created_at).desc()).limit(limit))
    rows.sort(key=lambda row: as_utc(row.created_at), reverse=True)
    return [DeliveryRow.model_validate(row, from_attributes=True) for row in rows[:limit]]
