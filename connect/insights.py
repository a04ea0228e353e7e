"""Connect insights from the stored analytics snapshot: spending summary, recurring bills,
products and debts. Nothing here calls a bank or recomputes analytics in the request.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, col, select

from connect.analytics_inputs import linked_account
from core.errors import Invalid
from models.analytics import AnalyticsSnapshot
from models.analytics_views import debt_view, loan_view, period_view, recurring_view, sections
from models.banking import BankAccount, ProductAgreement
from models.insights import (
    DebtsPublic,
    LoanPublic,
    NextPaymentsPublic,
    ProductPublic,
    ProductsPublic,
    RatePublic,
    RecurringBillsPublic,
    SourcedMoneyPublic,
    TransactionsSummaryPublic,
    money_fields,
)

PERIODS = ("30d", "90d", "month")


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


def transactions_summary(
    session: Session, *, user_id: uuid.UUID, period: str
) -> TransactionsSummaryPublic:
    """Income, spending by category and spending by day for 30d, 90d or this month."""
    if period not in PERIODS:
        raise Invalid(
            f"Unknown period {period!r}", code="invalid_period", details={"allowed": list(PERIODS)}
        )
    snapshot = latest_snapshot(session, user_id)
    if snapshot is None:
        return TransactionsSummaryPublic.of(None, period=period, currencies=[])
    daily: dict[str, dict[str, int]] = snapshot.data.get("daily_spending", {})
    views = [
        period_view(section, daily.get(section["currency"], {}), period)
        for section in sections(snapshot.data)
    ]
    return TransactionsSummaryPublic.of(snapshot, period=period, currencies=views)


def recurring_bills(session: Session, *, user_id: uuid.UUID) -> RecurringBillsPublic:
    """Recurring bills found in the transactions, with their predicted next due dates."""
    snapshot = latest_snapshot(session, user_id)
    bills = [b for s in sections(snapshot.data) for b in recurring_view(s)] if snapshot else []
    bills.sort(key=lambda b: (b.next_due, b.payee))
    return RecurringBillsPublic.of(snapshot, bills=bills)


def debts(session: Session, *, user_id: uuid.UUID) -> DebtsPublic:
    """Outstanding debt, monthly payments (annuity), rates and DSTI, with each number's source."""
    snapshot = latest_snapshot(session, user_id)
    views = [debt_view(section) for section in sections(snapshot.data)] if snapshot else []
    return DebtsPublic.of(snapshot, currencies=views)


def next_payment(session: Session, *, user_id: uuid.UUID) -> NextPaymentsPublic:
    """The earliest predicted loan payment (per currency, and the soonest overall)."""
    snapshot = latest_snapshot(session, user_id)
    views = [debt_view(section) for section in sections(snapshot.data)] if snapshot else []
    payments = [v.next_payment for v in views if v.next_payment is not None]
    soonest = min(payments, key=lambda p: (p.due, p.currency), default=None)
    return NextPaymentsPublic.of(snapshot, next_payment=soonest, by_currency=payments)


def _product_view(
    row: ProductAgreement, accounts: list[BankAccount], loans: dict[tuple[str, str], LoanPublic]
) -> ProductPublic:
    is_loan = row.product_type.lower() == "loan"
    account = linked_account(row, accounts, loan=is_loan)
    currency = account.currency if account else "RUB"
    rated = row.interest_rate is not None
    return ProductPublic(
        agreement_id=row.agreement_id,
        bank_code=row.bank_code,
        product_id=row.product_id,
        product_name=row.product_name,
        product_type=row.product_type,
        status=row.status,
        start_date=row.start_date,
        end_date=row.end_date,
        account_number_masked=row.account_number_masked,
        linked_account_id=account.external_id if account else None,
        amount=_sourced(row.amount_minor, currency, "agreement"),
        balance=_sourced(
            account.booked_minor if account else row.balance_minor,
            currency,
            "account_balance" if account else "agreement",
        ),
        interest_rate=RatePublic(
            value=str(row.interest_rate) if rated else None,
            unit="percent",
            source="agreement" if rated else None,
        ),
        loan=loans.get((row.bank_code, row.agreement_id)),
    )


def _sourced(amount_minor: int | None, currency: str, source: str) -> SourcedMoneyPublic | None:
    if amount_minor is None:
        return None
    return SourcedMoneyPublic(
        **money_fields(amount_minor, currency), currency=currency, source=source
    )


def products(session: Session, *, user_id: uuid.UUID) -> ProductsPublic:
    """Product agreements (loans, deposits, cards) with linked accounts and loan figures."""
    agreements = session.exec(
        select(ProductAgreement)
        .where(ProductAgreement.user_id == user_id)
        .order_by(col(ProductAgreement.bank_code), col(ProductAgreement.agreement_id))
    ).all()
    accounts = list(session.exec(select(BankAccount).where(BankAccount.user_id == user_id)))
    snapshot = latest_snapshot(session, user_id)
    loans = {
        (loan["bank_code"], loan["agreement_id"]): loan_view(loan)
        for section in (sections(snapshot.data) if snapshot else [])
        for loan in section["debt"]["loans"]
    }
    views = [_product_view(row, accounts, loans) for row in agreements]
    return ProductsPublic.of(snapshot, products=views)
