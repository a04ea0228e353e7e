"""Failure drills: the money stays right when things happen at once or break.

Each drill ends by checking the ledger: postings balance (Σ = 0 per currency) and no
account that may not go negative does.
"""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.context import ServiceContext
from models.ledger import AccountKind, Entry, LedgerAccount
from processing.ledger.postings import deposit
from tests.processing.conftest import new_currency


def assert_ledger_sound(ctx: ServiceContext, currency: str) -> None:
    with Session(ctx.engine) as session:
        accounts = session.exec(
            select(LedgerAccount).where(LedgerAccount.currency == currency)
        ).all()
        total = session.exec(
            select(func.coalesce(func.sum(Entry.amount_minor), 0))
            .join(LedgerAccount, col(LedgerAccount.id) == Entry.account_id)
            .where(LedgerAccount.currency == currency)
        ).one()
    assert total == 0
    assert sum(a.balance_minor for a in accounts) == 0
    assert all(a.allow_negative or a.balance_minor - a.held_minor >= 0 for a in accounts)


def test_twenty_concurrent_first_deposits_make_one_platform_account(ctx: ServiceContext) -> None:
    currency = new_currency(ctx)
    start, errors = threading.Barrier(20), []

    def fund(trader_id: uuid.UUID) -> None:
        try:
            with Session(ctx.engine) as session:
                start.wait(timeout=10)
                deposit(session, trader_id, currency, 10_000, f"drill:{trader_id}")
                session.commit()
        except Exception as exc:  # collected: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=fund, args=(uuid.uuid4(),)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with Session(ctx.engine) as session:
        funding = session.exec(
            select(LedgerAccount).where(
                LedgerAccount.currency == currency,
                LedgerAccount.kind == AccountKind.platform_funding,
            )
        ).all()
    assert len(funding) == 1
    assert funding[0].balance_minor == -200_000
    assert_ledger_sound(ctx, currency)
