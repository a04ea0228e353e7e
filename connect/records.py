"""From the bank client's models to the rows we store (minor units, masked numbers)."""

from __future__ import annotations

from datetime import UTC, datetime

from banks.wire import AccountCategory
from banks.wire import BankAccount as WireAccount
from banks.wire import BankBalance as WireBalance
from banks.wire import BankTransaction as WireTransaction
from banks.wire import ProductAgreement as WireAgreement
from connect.bank_data import (
    AccountRecord,
    AgreementRecord,
    BalanceRecord,
    TransactionRecord,
)
from core.security import mask_number
from models.amounts import rounded_minor
from models.banking import AccountKind, TransactionStatus

ACCOUNT_KINDS = {
    AccountCategory.checking: AccountKind.liquid,
    AccountCategory.savings: AccountKind.liquid,
    AccountCategory.card: AccountKind.liquid,
    AccountCategory.deposit: AccountKind.deposit,
    AccountCategory.loan: AccountKind.liability,
    AccountCategory.credit_card: AccountKind.liability,
}


def account_record(account: WireAccount) -> AccountRecord:
    return AccountRecord(
        external_id=account.account_id,
        sub_type=account.sub_type,
        kind=ACCOUNT_KINDS.get(account.category, AccountKind.other),
        currency=account.currency,
        nickname=account.nickname,
        number_masked=mask_number(account.identification) if account.identification else None,
        status=account.status,
        opening_date=account.opening_date,
    )


def balance_record(balance: WireBalance, fallback_time: datetime) -> BalanceRecord:
    return BalanceRecord(
        balance_type=balance.balance_type,
        amount_minor=rounded_minor(balance.amount, balance.currency),
        currency=balance.currency,
        as_of=balance.as_of or fallback_time,
    )


def transaction_record(tx: WireTransaction) -> TransactionRecord:
    return TransactionRecord(
        external_id=tx.transaction_id,
        booked_at=tx.booked_at,
        value_at=tx.value_at,
        amount_minor=rounded_minor(tx.amount, tx.currency),
        currency=tx.currency,
        status=TransactionStatus(tx.status.value),
        description=(tx.description or "")[:500] or None,
        bank_tx_code=tx.bank_tx_code,
        mcc=tx.mcc,
        merchant_name=(tx.merchant_name or "")[:200] or None,
        merchant_category=(tx.merchant_category or "")[:100] or None,
        counterparty=(tx.counterparty or "")[:200] or None,
        card_masked=tx.card_masked,
    )


def agreement_record(agreement: WireAgreement, currency: str = "RUB") -> AgreementRecord:
    def minor(value: object) -> int | None:
        return None if value is None else rounded_minor(value, currency)  # type: ignore[arg-type]

    start, end = agreement.start_date, agreement.end_date
    return AgreementRecord(
        agreement_id=agreement.agreement_id,
        product_id=agreement.product_id,
        product_name=agreement.product_name,
        product_type=agreement.product_type,
        amount_minor=minor(agreement.amount),
        status=agreement.status or "active",
        # The bank sends zone-less dates; they are taken as UTC.
        start_date=start.replace(tzinfo=UTC) if start and not start.tzinfo else start,
        end_date=end.replace(tzinfo=UTC) if end and not end.tzinfo else end,
        account_number_masked=(
            mask_number(agreement.account_number) if agreement.account_number else None
        ),
        interest_rate=agreement.interest_rate,
        balance_minor=minor(agreement.account_balance),
    )
