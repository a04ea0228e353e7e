"""Hand-built inputs for the analytics tests (kept tiny so every expected number is checkable)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count

from analytics.inputs import AccountInput, TransactionInput

MSK = timezone(timedelta(hours=3))
_ids = count(1)


def at(day: date | str, hour: int = 12, tz: timezone = MSK) -> datetime:
    """Noon (by default) Moscow time on `day`."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(d.year, d.month, d.day, hour, tzinfo=tz)


def tx(
    day: date | str,
    amount_minor: int,
    description: str = "",
    *,
    account: str = "acc-1",
    bank: str = "vbank",
    currency: str = "RUB",
    status: str = "booked",
    tx_id: str | None = None,
    mcc: str | None = None,
    counterparty: str | None = None,
    merchant: str | None = None,
    category: str | None = None,
    hour: int = 12,
) -> TransactionInput:
    return TransactionInput(
        bank_code=bank,
        account_id=account,
        transaction_id=tx_id or f"tx-{next(_ids)}",
        booked_at=at(day, hour),
        amount_minor=amount_minor,
        currency=currency,
        status=status,
        description=description,
        bank_tx_code="ReceivedCreditTransfer" if amount_minor > 0 else "IssuedDebitTransfer",
        mcc=mcc,
        merchant_name=merchant,
        counterparty=counterparty,
        category=category,
    )


def account(
    account_id: str = "acc-1",
    sub_type: str = "Checking",
    available: int = 0,
    booked: int | None = None,
    *,
    bank: str = "vbank",
    currency: str = "RUB",
) -> AccountInput:
    return AccountInput(
        account_id, bank, sub_type, currency, available, available if booked is None else booked
    )


UTC_NOON = datetime(2025, 6, 15, 12, tzinfo=UTC)
