"""Bank rows → analytics inputs: accounts, transactions, loans and deposits (no I/O here).

Account ids inside the analytics are the bank's own account ids (`external_id`), so the
inputs a figure lists read like the bank statement ("vbank/acc-1"), not like row UUIDs.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from analytics import AccountInput, CategoryRule, DepositInput, LoanInput, TransactionInput
from analytics.figures import SOURCE_ACCOUNT_BALANCE, SOURCE_AGREEMENT, SOURCE_ESTIMATE
from analytics.inputs import DEPOSIT, STATUS_BOOKED, STATUS_PENDING, account_class
from analytics.inputs import is_loan_account as is_loan_input
from models.analytics import CategoryRuleRow
from models.banking import BankAccount, BankTransaction, ProductAgreement, TransactionStatus

# Agreements in these states carry no debt or savings any more.
_ENDED = {"closed", "terminated", "repaid", "cancelled", "canceled", "expired"}


def rule_from_row(row: CategoryRuleRow) -> CategoryRule:
    return CategoryRule(
        id=row.id,
        priority=row.priority,
        category=row.category,
        bank_tx_code=row.bank_tx_code,
        mcc_codes=tuple(row.mcc_codes or ()),
        merchant_category=row.merchant_category,
        text_pattern=row.text_pattern,
        direction=row.direction,
    )


def account_input(row: BankAccount) -> AccountInput:
    booked = row.booked_minor if row.booked_minor is not None else row.available_minor
    available = row.available_minor if row.available_minor is not None else booked
    return AccountInput(
        account_id=row.external_id,
        bank_code=row.bank_code,
        sub_type=row.sub_type,
        currency=row.currency,
        available_minor=available or 0,
        booked_minor=booked or 0,
    )


def is_loan_account(row: BankAccount) -> bool:
    return is_loan_input(account_input(row))


def transaction_input(
    row: BankTransaction, external_ids: dict[uuid.UUID, str]
) -> TransactionInput | None:
    """None for declined transactions: no money moved."""
    if row.status == TransactionStatus.declined:
        return None
    return TransactionInput(
        bank_code=row.bank_code,
        account_id=external_ids.get(row.account_id, str(row.account_id)),
        transaction_id=row.external_id,
        booked_at=row.booked_at,
        amount_minor=row.amount_minor,
        currency=row.currency,
        # A refunded debit still happened; its refund arrives as its own credit row.
        status=STATUS_PENDING if row.status == TransactionStatus.pending else STATUS_BOOKED,
        description=row.description or "",
        bank_tx_code=row.bank_tx_code,
        mcc=row.mcc,
        merchant_name=row.merchant_name,
        merchant_category=row.merchant_category,
        counterparty=row.counterparty,
    )


def linked_account(
    agreement: ProductAgreement, accounts: Sequence[BankAccount], loan: bool
) -> BankAccount | None:
    """The account an agreement is serviced through: same bank, same (masked) number.

    Only a unique match links: two accounts ending in the same digits link neither.
    """
    if not agreement.account_number_masked:
        return None
    matches = [
        acc
        for acc in accounts
        if acc.bank_code == agreement.bank_code
        and acc.number_masked == agreement.account_number_masked
        and (is_loan_account(acc) if loan else account_class(account_input(acc)) == DEPOSIT)
    ]
    return matches[0] if len(matches) == 1 else None


def loan_input(agreement: ProductAgreement, accounts: Sequence[BankAccount]) -> LoanInput:
    """Outstanding debt from the linked loan account, else the agreement's own figures."""
    account = linked_account(agreement, accounts, loan=True)
    if account is not None:
        outstanding, source = abs(account_input(account).booked_minor), SOURCE_ACCOUNT_BALANCE
    elif agreement.balance_minor is not None:
        outstanding, source = abs(agreement.balance_minor), SOURCE_AGREEMENT
    else:
        # Only the original amount is known: it overstates the debt, so say it is an estimate.
        outstanding, source = agreement.amount_minor or 0, SOURCE_ESTIMATE
    rate = agreement.interest_rate
    return LoanInput(
        agreement_id=agreement.agreement_id,
        bank_code=agreement.bank_code,
        product_name=agreement.product_name or agreement.product_id or "Loan",
        outstanding_minor=outstanding,
        annual_rate=Decimal(rate) if rate is not None else None,
        end_date=agreement.end_date.date() if agreement.end_date else None,
        rate_source=SOURCE_AGREEMENT if rate is not None else SOURCE_ESTIMATE,
        outstanding_source=source,
        currency=account.currency if account else "RUB",
        account_id=account.external_id if account else None,
    )


def deposit_input(agreement: ProductAgreement, accounts: Sequence[BankAccount]) -> DepositInput:
    account = linked_account(agreement, accounts, loan=False)
    if account is not None:
        balance, source = account_input(account).booked_minor, SOURCE_ACCOUNT_BALANCE
    else:
        balance = agreement.balance_minor or agreement.amount_minor or 0
        source = SOURCE_AGREEMENT
    rate = agreement.interest_rate
    return DepositInput(
        agreement_id=agreement.agreement_id,
        bank_code=agreement.bank_code,
        product_name=agreement.product_name or agreement.product_id or "Deposit",
        balance_minor=balance,
        annual_rate=Decimal(rate) if rate is not None else None,
        end_date=agreement.end_date.date() if agreement.end_date else None,
        source=source,
        currency=account.currency if account else "RUB",
        account_id=account.external_id if account else None,
    )


def products_inputs(
    agreements: Sequence[ProductAgreement], accounts: Sequence[BankAccount]
) -> tuple[list[LoanInput], list[DepositInput]]:
    """Active loan and deposit agreements; card agreements show through their accounts."""
    active = [a for a in agreements if a.status.lower() not in _ENDED]
    loans = [loan_input(a, accounts) for a in active if a.product_type.lower() == "loan"]
    deposits = [deposit_input(a, accounts) for a in active if a.product_type.lower() == "deposit"]
    return loans, deposits
