"""Connect insights from the stored analytics snapshot: spending summary, recurring bills,
products and debts. Nothing here calls a bank or recomputes analytics in the request.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from api.deps import CurrentConnectUser, SessionDep
from connect import insights
from models.insights import (
    DebtsPublic,
    NextPaymentsPublic,
    ProductsPublic,
    RecurringBillsPublic,
    TransactionsSummaryPublic,
)

router = APIRouter()


@router.get("/transactions/summary", response_model=TransactionsSummaryPublic)
def transactions_summary(
    session: SessionDep, user: CurrentConnectUser, period: Literal["30d", "90d", "month"] = "30d"
) -> TransactionsSummaryPublic:
    """Income, spending by category and spending by day for 30d, 90d or this month."""
    return insights.transactions_summary(session, user_id=user.id, period=period)


@router.get("/transactions/recurring", response_model=RecurringBillsPublic)
def recurring_bills(session: SessionDep, user: CurrentConnectUser) -> RecurringBillsPublic:
    """Recurring bills found in the transactions, with their predicted next due dates."""
    return insights.recurring_bills(session, user_id=user.id)


@router.get("/debts", response_model=DebtsPublic)
def debts(session: SessionDep, user: CurrentConnectUser) -> DebtsPublic:
    """Outstanding debt, monthly payments (annuity), rates and DSTI, with each number's source."""
    return insights.debts(session, user_id=user.id)


@router.get("/debts/next-payment", response_model=NextPaymentsPublic)
def next_payment(session: SessionDep, user: CurrentConnectUser) -> NextPaymentsPublic:
    """The earliest predicted loan payment (per currency, and the soonest overall)."""
    return insights.next_payment(session, user_id=user.id)


@router.get("/products", response_model=ProductsPublic)
def products(session: SessionDep, user: CurrentConnectUser) -> ProductsPublic:
    """Product agreements (loans, deposits, cards) with linked accounts and loan figures."""
    return insights.products(session, user_id=user.id)
