"""Connect insights from the stored analytics snapshot: spending summary, recurring bills,
products and debts. Nothing here calls a bank or recomputes analytics in the request.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from sqlmodel import Session, col, select

from api.deps import CurrentConnectUser, SessionDep
from api.errors import AppError
from connect.analytics_inputs import linked_account
from models.analytics import AnalyticsSnapshot
from models.analytics_views import debt_view, loan_view, money, recurring_view, sections
from models.banking import BankAccount, ProductAgreement

router = APIRouter()

PERIODS = ("30d", "90d", "month")
STATUS_READY = "ready"
STATUS_NO_DATA = "no_data"


def newest_snapshot_query(user_id: uuid.UUID, *columns: Any) -> Any:
    """The user's newest snapshot, whole or some columns (index on user_id, computed_at)."""
    return (
        select(*(columns or (AnalyticsSnapshot,)))
        .where(AnalyticsSnapshot.user_id == user_id)
        .order_by(col(AnalyticsSnapshot.computed_at).desc())
        .limit(1)
    )


def latest_snapshot(session: Session, user_id: uuid.UUID) -> AnalyticsSnapshot | None:
    snapshot: AnalyticsSnapshot | None = session.exec(newest_snapshot_query(user_id)).first()
    return snapshot


def _envelope(snapshot: AnalyticsSnapshot | None, **body: Any) -> dict[str, Any]:
    return {
        "status": STATUS_READY if snapshot else STATUS_NO_DATA,
        "as_of": snapshot.as_of if snapshot else None,
        "computed_at": snapshot.computed_at if snapshot else None,
        **body,
    }


def _period_view(section: dict[str, Any], daily: dict[str, int], period: str) -> dict[str, Any]:
    summary, currency = section["summaries"][period], section["currency"]
    start, end = date.fromisoformat(summary["start"]), date.fromisoformat(summary["end"])
    return {
        "currency": currency,
        "start": summary["start"],
        "end": summary["end"],
        "income": money(summary["income_minor"], currency),
        "spending": money(summary["spending_minor"], currency),
        "net": money(summary["net_minor"], currency),
        "spending_by_category": [
            {"category": name, **money(amount, currency)}
            for name, amount in sorted(
                summary["spending_by_category"].items(), key=lambda kv: (-kv[1], kv[0])
            )
        ],
        "spending_by_day": [
            {"date": day, **money(amount, currency)}
            for day, amount in daily.items()
            if start <= date.fromisoformat(day) <= end
        ],
        "explanation": "Credits and debits that are not transfers between your own accounts.",
        "source": "transactions",
    }


@router.get("/transactions/summary")
def transactions_summary(
    session: SessionDep, user: CurrentConnectUser, period: str = "30d"
) -> dict[str, Any]:
    """Income, spending by category and spending by day for 30d, 90d or this month."""
    if period not in PERIODS:
        raise AppError(
            f"Unknown period {period!r}",
            code="invalid_period",
            status_code=422,
            details={"allowed": list(PERIODS)},
        )
    snapshot = latest_snapshot(session, user.id)
    if snapshot is None:
        return _envelope(None, period=period, currencies=[])
    daily: dict[str, dict[str, int]] = snapshot.data.get("daily_spending", {})
    views = [
        _period_view(section, daily.get(section["currency"], {}), period)
        for section in sections(snapshot.data)
    ]
    return _envelope(snapshot, period=period, currencies=views)


@router.get("/transactions/recurring")
def recurring_bills(session: SessionDep, user: CurrentConnectUser) -> dict[str, Any]:
    """Recurring bills found in the transactions, with their predicted next due dates."""
    snapshot = latest_snapshot(session, user.id)
    bills = [b for s in sections(snapshot.data) for b in recurring_view(s)] if snapshot else []
    return _envelope(snapshot, bills=sorted(bills, key=lambda b: (b["next_due"], b["payee"])))


@router.get("/debts")
def debts(session: SessionDep, user: CurrentConnectUser) -> dict[str, Any]:
    """Outstanding debt, monthly payments (annuity), rates and DSTI, with each number's source."""
    snapshot = latest_snapshot(session, user.id)
    views = [debt_view(section) for section in sections(snapshot.data)] if snapshot else []
    return _envelope(snapshot, currencies=views)


@router.get("/debts/next-payment")
def next_payment(session: SessionDep, user: CurrentConnectUser) -> dict[str, Any]:
    """The earliest predicted loan payment (per currency, and the soonest overall)."""
    snapshot = latest_snapshot(session, user.id)
    views = [debt_view(section) for section in sections(snapshot.data)] if snapshot else []
    payments = [v["next_payment"] for v in views if v["next_payment"] is not None]
    soonest = min(payments, key=lambda p: (p["due"], p["currency"]), default=None)
    return _envelope(snapshot, next_payment=soonest, by_currency=payments)


def _product_view(
    row: ProductAgreement, accounts: list[BankAccount], loans: dict[tuple[str, str], Any]
) -> dict[str, Any]:
    is_loan = row.product_type.lower() == "loan"
    account = linked_account(row, accounts, loan=is_loan)
    currency = account.currency if account else "RUB"
    loan = loans.get((row.bank_code, row.agreement_id))
    return {
        "agreement_id": row.agreement_id,
        "bank_code": row.bank_code,
        "product_id": row.product_id,
        "product_name": row.product_name,
        "product_type": row.product_type,
        "status": row.status,
        "start_date": row.start_date,
        "end_date": row.end_date,
        "account_number_masked": row.account_number_masked,
        "linked_account_id": account.external_id if account else None,
        "amount": _sourced(row.amount_minor, currency, "agreement"),
        "balance": _sourced(
            account.booked_minor if account else row.balance_minor,
            currency,
            "account_balance" if account else "agreement",
        ),
        "interest_rate": {
            "value": str(row.interest_rate) if row.interest_rate is not None else None,
            "unit": "percent",
            "source": "agreement" if row.interest_rate is not None else None,
        },
        "loan": loan,
    }


def _sourced(amount_minor: int | None, currency: str, source: str) -> dict[str, Any] | None:
    if amount_minor is None:
        return None
    return {**money(amount_minor, currency), "currency": currency, "source": source}


@router.get("/products")
def products(session: SessionDep, user: CurrentConnectUser) -> dict[str, Any]:
    """Product agreements (loans, deposits, cards) with linked accounts and loan figures."""
    agreements = session.exec(
        select(ProductAgreement)
        .where(ProductAgreement.user_id == user.id)
        .order_by(col(ProductAgreement.bank_code), col(ProductAgreement.agreement_id))
    ).all()
    accounts = list(session.exec(select(BankAccount).where(BankAccount.user_id == user.id)))
    snapshot = latest_snapshot(session, user.id)
    loans = {
        (loan["bank_code"], loan["agreement_id"]): loan_view(loan)
        for section in (sections(snapshot.data) if snapshot else [])
        for loan in section["debt"]["loans"]
    }
    views = [_product_view(row, accounts, loans) for row in agreements]
    return _envelope(snapshot, products=views)
