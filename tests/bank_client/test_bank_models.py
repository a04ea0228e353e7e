"""Wire → model conversion: signs, statuses, timestamps, key styles, consent branching."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from banks.parsing import (
    parse_account,
    parse_account_consent,
    parse_agreement,
    parse_consent_request,
    parse_datetime,
    parse_transaction,
)
from banks.wire import AccountCategory, ConsentStatus, TransactionStatus


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-01T10:00:00Z",
        "2025-03-01T10:00:00",
        "2025-03-01T13:00:00+03:00",
        "2025-03-01T10:00:00.000000",
    ],
)
def test_timestamps_become_utc(text: str) -> None:
    assert parse_datetime(text) == datetime(2025, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Booked", TransactionStatus.booked),
        ("completed", TransactionStatus.booked),
        ("Pending", TransactionStatus.pending),
        ("pending", TransactionStatus.pending),
        ("declined", TransactionStatus.declined),
        ("refunded", TransactionStatus.refunded),
    ],
)
def test_both_status_vocabularies(raw: str, status: TransactionStatus) -> None:
    item = {
        "transactionId": "t1",
        "amount": {"amount": "1.00", "currency": "RUB"},
        "creditDebitIndicator": "Credit",
        "status": raw,
        "bookingDateTime": "2025-01-01T00:00:00Z",
    }
    assert parse_transaction(item, "acc-1").status is status


def test_debit_is_negative_and_card_stays_masked() -> None:
    item = {
        "transactionId": "t1",
        "amount": {"amount": "1234.50", "currency": "RUB"},
        "creditDebitIndicator": "Debit",
        "status": "Booked",
        "bookingDateTime": "2025-01-01T09:00:00",
        "merchant": {"name": "Пятёрочка", "mccCode": "5411"},
        "card": {"cardNumber": "2200123412341234"},
        "counterparty": "ООО Ромашка",
        "bankTransactionCode": {"code": "IssuedDebitTransfer"},
    }
    tx = parse_transaction(item, "acc-1")
    assert tx.amount == Decimal("-1234.50") and tx.account_id == "acc-1"
    assert tx.card_masked == "****1234" and tx.mcc == "5411" and tx.counterparty == "ООО Ромашка"
    assert tx.booked_at.tzinfo is UTC


def test_account_class_comes_from_sub_type_not_business_flag() -> None:
    item = {
        "accountId": "acc-1",
        "accountType": "Business",
        "accountSubType": "Loan",
        "account": [{"identification": "45507810000000001234", "name": "X"}],
    }
    account = parse_account(item)
    assert account.category is AccountCategory.loan and account.category.is_liability
    assert account.masked_number == "****1234"


def test_auto_approval_follows_the_consent_id() -> None:
    approved = parse_consent_request(
        {"request_id": "req-1", "consent_id": "consent-1", "status": "approved"}
    )
    pending = parse_consent_request(
        {"request_id": "req-2", "status": "pending", "auto_approved": True}
    )
    assert approved.auto_approved and approved.status is ConsentStatus.authorized
    assert not pending.auto_approved and pending.status is ConsentStatus.awaiting_authorization


def test_consent_and_agreement_shapes() -> None:
    consent = parse_account_consent(
        {"data": {"consentId": "req-1", "status": "AwaitingAuthorization"}}
    )
    assert consent.is_request_echo and consent.status is ConsentStatus.awaiting_authorization
    agreement = parse_agreement(
        {
            "agreement_id": "agr-1",
            "product_type": "loan",
            "amount": 1800000.0,
            "start_date": "2025-11-06T19:11:27.212166",
            "interest_rate": 19.9,
        }
    )
    assert agreement.amount == Decimal("1800000.0") and agreement.interest_rate == Decimal("19.9")
    assert agreement.start_date == datetime(2025, 11, 6, 19, 11, 27, 212166, tzinfo=UTC)
