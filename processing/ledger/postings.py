"""Ledger operations inside a caller's transaction: accounts, guarded holds, postings.

Every balance change is a guarded UPDATE (the CHECK constraint backs it up), every posting
carries a unique idempotency key, and a hold leaves `pending` exactly once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.db import dialect_insert
from models.base import new_id, utcnow
from models.ledger import AccountKind, Entry, Hold, HoldStatus, LedgerAccount, Posting
from processing.ledger.collateral import deposit_default

PLATFORM_KINDS = (
    AccountKind.platform_profit,
    AccountKind.platform_funding,
    AccountKind.platform_fx,
    AccountKind.platform_payout,
)


@dataclass(frozen=True)
class Leg:
    account_id: uuid.UUID
    amount_minor: int


def account_for(
    session: Session,
    kind: AccountKind,
    owner_id: uuid.UUID | None,
    currency: str,
    counter_currency: str | None = None,
) -> LedgerAccount:
    """The account of this owner in this currency, created on first use (an FX account is
    the platform's, in `currency`, against `counter_currency`)."""
    query = select(LedgerAccount).where(
        LedgerAccount.kind == kind,
        LedgerAccount.currency == currency,
        LedgerAccount.owner_id == owner_id
        if owner_id is not None
        else LedgerAccount.owner_id.is_(None),  # type: ignore[union-attr]
        LedgerAccount.counter_currency == counter_currency
        if counter_currency is not None
        else LedgerAccount.counter_currency.is_(None),  # type: ignore[union-attr]
    )
    account = session.exec(query).first()
    if account is not None:
        return account
    account = LedgerAccount(
        kind=kind,
        owner_id=owner_id,
        currency=currency,
        counter_currency=counter_currency,
        allow_negative=kind in PLATFORM_KINDS,
    )
    if kind == AccountKind.trader:  # a new trader account freezes the platform's default
        account.frozen_minor = deposit_default(session, currency)
    try:
        # A savepoint, so losing a creation race does not abort the caller's transaction.
        with session.begin_nested():
            session.add(account)
    except IntegrityError:
        return session.exec(query).one()
    return account


def fx_account(session: Session, currency: str, counter_currency: str) -> LedgerAccount:
    """The platform's FX position in `currency` against `counter_currency`: the other side of
    every conversion between the two (each pair has one account per currency)."""
    return account_for(session, AccountKind.platform_fx, None, currency, counter_currency)


def place_hold(
    session: Session,
    order_id: uuid.UUID | None,
    account_id: uuid.UUID,
    amount: int,
    *,
    withdrawal_id: uuid.UUID | None = None,
) -> bool:
    """Reserve `amount` of the account's working balance (balance − frozen security deposit −
    holds) for an order (or, with `withdrawal_id` and no order, a withdrawal); False when it
    is not there. The one guarded UPDATE every hold, whatever it is for, goes through."""
    reserved = session.connection().execute(
        update(LedgerAccount)
        .where(
            col(LedgerAccount.id) == account_id,
            col(LedgerAccount.balance_minor)
            - col(LedgerAccount.frozen_minor)
            - col(LedgerAccount.held_minor)
            >= amount,
        )
        .values(held_minor=LedgerAccount.held_minor + amount)
    )
    if reserved.rowcount != 1:
        return False
    session.add(
        Hold(
            order_id=order_id,
            withdrawal_id=withdrawal_id,
            account_id=account_id,
            amount_minor=amount,
        )
    )
    session.flush()
    return True


class Claimed(NamedTuple):
    """A hold this transaction moved out of `pending`: where its amount is held."""

    account_id: uuid.UUID
    amount_minor: int


def claim_hold(
    session: Session,
    order_id: uuid.UUID | None,
    outcome: HoldStatus,
    *,
    withdrawal_id: uuid.UUID | None = None,
) -> Claimed | None:
    """Move the order's (or the withdrawal's) hold from pending to posted or voided (one
    statement); None if there is none or it is already resolved.

    The account's `held_minor` is left to the caller (`resolve_hold` or `post`).
    """
    row = (
        session.connection()
        .execute(
            update(Hold)
            .where(held_for(order_id, withdrawal_id), col(Hold.status) == HoldStatus.pending)
            .values(status=outcome, resolved_at=utcnow())
            .returning(col(Hold.account_id), col(Hold.amount_minor))
        )
        .first()
    )
    return Claimed(row.account_id, row.amount_minor) if row is not None else None


def held_for(order_id: uuid.UUID | None, withdrawal_id: uuid.UUID | None) -> ColumnElement[bool]:
    if withdrawal_id is not None:
        return col(Hold.withdrawal_id) == withdrawal_id
    return col(Hold.order_id) == order_id


def resolve_hold(
    session: Session,
    order_id: uuid.UUID | None,
    outcome: HoldStatus,
    *,
    withdrawal_id: uuid.UUID | None = None,
) -> Claimed | None:
    """Resolve the order's (or withdrawal's) hold and give its amount back to the account's
    available balance."""
    hold = claim_hold(session, order_id, outcome, withdrawal_id=withdrawal_id)
    if hold is None:
        return None
    session.connection().execute(
        update(LedgerAccount)
        .where(col(LedgerAccount.id) == hold.account_id)
        .values(held_minor=LedgerAccount.held_minor - hold.amount_minor)
    )
    return hold


def post(
    session: Session,
    key: str,
    kind: str,
    legs: list[Leg],
    order_id: uuid.UUID | None = None,
    release: Claimed | None = None,
) -> bool:
    """Write one balanced posting; False when this key was already posted (a retry).

    `release` is a hold claimed in this transaction: its amount leaves the account's
    `held_minor` in the same UPDATE as the balance change.
    """
    unbalanced = unbalanced_currencies(session, legs)
    if unbalanced:
        raise ValueError(f"a posting must balance to zero in each currency: {unbalanced}")
    # One statement: a key already posted (a retry) inserts nothing and returns no row.
    table = Posting.__table__  # type: ignore[attr-defined]
    conn = session.connection()
    posted_at = utcnow()
    posting_id = conn.execute(
        dialect_insert(conn.dialect.name, table)
        .values(
            id=new_id(), idempotency_key=key, kind=kind, order_id=order_id, created_at=posted_at
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    ).scalar()
    if posting_id is None:
        return False
    conn.execute(
        insert(Entry),
        [
            {
                "id": new_id(),
                "posting_id": posting_id,
                "account_id": leg.account_id,
                "amount_minor": leg.amount_minor,
                "posted_at": posted_at,
            }
            for leg in legs
        ],
    )
    changes: dict[uuid.UUID, int] = {}
    for leg in legs:
        changes[leg.account_id] = changes.get(leg.account_id, 0) + leg.amount_minor
    held = {release.account_id: release.amount_minor} if release is not None else {}
    # Account rows are locked last, one UPDATE each, in id order: they are the hot rows
    # (every settle touches the store and the platform), so they are held only until the
    # commit that follows, and two postings always lock them in the same order.
    for account_id in sorted(changes.keys() | held.keys()):
        values: dict[str, object] = {
            "balance_minor": LedgerAccount.balance_minor + changes.get(account_id, 0)
        }
        if account_id in held:
            values["held_minor"] = LedgerAccount.held_minor - held[account_id]
        # The CHECK constraint refuses a non-platform balance below its holds.
        conn.execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == account_id)  # type: ignore[arg-type]
            .values(**values)
        )
    return True


def unbalanced_currencies(session: Session, legs: list[Leg]) -> list[str]:
    """The currencies whose legs do not sum to zero (a conversion is never one leg: each
    currency is balanced on its own, the FX accounts taking the other side)."""
    ids = {leg.account_id for leg in legs}
    currency_of = dict(
        session.connection()
        .execute(
            sa_select(col(LedgerAccount.id), col(LedgerAccount.currency)).where(
                col(LedgerAccount.id).in_(ids)
            )
        )
        .all()
    )
    sums: dict[str, int] = {}
    for leg in legs:
        currency = currency_of.get(leg.account_id, "?")
        sums[currency] = sums.get(currency, 0) + leg.amount_minor
    return sorted(currency for currency, total in sums.items() if total != 0)


def deposit(
    session: Session,
    owner_id: uuid.UUID,
    currency: str,
    amount: int,
    key: str,
    kind: AccountKind = AccountKind.trader,
) -> bool:
    """Fund a trader (liquidity for pay-in holds) or a store (balance for pay-outs) from the
    platform funding account: money that reached the platform off-ledger."""
    funding = account_for(session, AccountKind.platform_funding, None, currency)
    account = account_for(session, kind, owner_id, currency)
    legs = [Leg(funding.id, -amount), Leg(account.id, amount)]
    if kind == AccountKind.trader:
        return post(session, f"deposit:{key}", "deposit", legs)
    return post(session, f"{kind}-deposit:{key}", f"{kind}_deposit", legs)
