"""Wire shapes of the bank template: camelCase for accounts data, snake_case for consents and
agreements, amounts as strings in accounts data and floats in agreements."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from fastapi import HTTPException

from bank_emulator.data import Account, Agreement, Card, Transaction


def fmt_dt(value: datetime, zoneless: bool = False) -> str:
    """ISO 8601 in UTC, with `Z` or (for builds that drop it) without any zone."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    text = utc.isoformat(timespec="seconds")
    return text if zoneless else text + "Z"


def parse_dt(value: str) -> datetime:
    """Lenient query-parameter parsing: with or without zone, or a bare date (UTC)."""
    text = value.strip().replace(" ", "+")
    parsed = (
        datetime.fromisoformat(text) if "T" in text else datetime.fromisoformat(text + "T00:00")
    )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def amount_str(value: Decimal) -> str:
    return f"{value:.2f}"


def consent_required(message: str, request_url: str = "/account-consents/request") -> HTTPException:
    detail = {"error": "CONSENT_REQUIRED", "message": message, "consent_request_url": request_url}
    return HTTPException(403, detail)


def account_json(account: Account) -> dict[str, Any]:
    return {
        "accountId": account.account_id,
        "status": "Enabled",
        "currency": account.currency,
        # Bank quirk: everything but checking is reported as Business.
        "accountType": "Personal" if account.sub_type == "Checking" else "Business",
        "accountSubType": account.sub_type,
        "nickname": account.nickname,
        "openingDate": account.opening_date.isoformat(),
        "account": [
            {
                "schemeName": "RU.CBR.PAN",
                "identification": account.identification,
                "name": account.holder,
            }
        ],
    }


def balance_json(
    account: Account, kind: str, value: Decimal, at: datetime, zoneless: bool
) -> dict[str, Any]:
    return {
        "accountId": account.account_id,
        "type": kind,
        "dateTime": fmt_dt(at, zoneless),
        "amount": {"amount": amount_str(abs(value)), "currency": account.currency},
        "creditDebitIndicator": "Credit" if value >= 0 else "Debit",
    }


def transaction_json(tx: Transaction, zoneless: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "accountId": tx.account_id,
        "transactionId": tx.transaction_id,
        "amount": {"amount": amount_str(tx.amount), "currency": "RUB"},
        "creditDebitIndicator": "Credit" if tx.credit else "Debit",
        "status": tx.status,
        "bookingDateTime": fmt_dt(tx.booked_at, zoneless),
        "valueDateTime": fmt_dt(tx.booked_at, zoneless),
        "transactionInformation": tx.information,
        "bankTransactionCode": {
            "code": "ReceivedCreditTransfer" if tx.credit else "IssuedDebitTransfer"
        },
    }
    if tx.merchant is not None:
        item["merchant"] = {
            "name": tx.merchant.name,
            "mccCode": tx.merchant.mcc,
            "category": tx.merchant.category,
            "city": "Москва",
            "country": "RU",
        }
    if tx.card_masked:
        item["card"] = {"cardNumber": tx.card_masked, "cardType": "VISA"}
    if tx.counterparty:
        item["counterparty"] = {"name": tx.counterparty}
    return item


def card_json(card: Card, account: Account | None) -> dict[str, Any]:
    return {
        "cardId": card.card_id,
        "cardNumber": card.masked,
        "cardType": card.card_type,
        "cardName": card.name,
        "status": "active",
        "expiryDate": card.expiry,
        "accountId": card.account_id,
        "accountNumber": account.identification if account else None,
    }


def _naive_iso(value: datetime | None) -> str | None:
    # Agreements come from the bank's DB as naive timestamps with microseconds.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() if value else None


def agreement_json(agreement: Agreement) -> dict[str, Any]:
    return {
        "agreement_id": agreement.agreement_id,
        "product_id": agreement.product.product_id,
        "product_name": agreement.product.name,
        "product_type": agreement.product.product_type,
        "amount": float(agreement.amount),
        "status": agreement.status,
        "start_date": _naive_iso(agreement.start),
        "end_date": _naive_iso(agreement.end),
        "account_number": agreement.account_number,
    }


def iso_date(value: date) -> str:
    return value.isoformat()
