"""Wire dict → `banks.wire` models: the banks' key styles, envelopes and formats, read once.

Amounts become signed `Decimal`s (strings, ints or floats on the wire), timestamps tz-aware
UTC (with `Z`, an offset, no zone or a bare date), statuses the small enums of `banks.wire`.
Standard library only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from banks.wire import (
    AccountCategory,
    AccountConsent,
    BankAccount,
    BankBalance,
    BankCard,
    BankProduct,
    BankTransaction,
    ConsentRequestResult,
    ConsentSignResult,
    ConsentStatus,
    ProductAgreement,
    ProductAgreementConsent,
    ProductConsentRequestResult,
    TransactionStatus,
    UserConsent,
)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_datetime(value: Any) -> datetime | None:
    """With `Z`, an offset, no zone (taken as UTC) or a bare date; None when absent/invalid."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_decimal(value: Any) -> Decimal | None:
    """Strings, ints and floats (via their shortest repr, so 0.1 stays 0.1)."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        return Decimal(str(value).replace(",", ".").strip())
    except InvalidOperation:
        return None


def parse_int(value: Any) -> int | None:
    number = parse_decimal(value)
    return int(number) if number is not None else None


# -- wire → models -----------------------------------------------------------------------

_CONSENT_STATUS = {
    "authorized": ConsentStatus.authorized,
    "authorised": ConsentStatus.authorized,
    "approved": ConsentStatus.authorized,
    "active": ConsentStatus.authorized,
    "awaitingauthorization": ConsentStatus.awaiting_authorization,
    "awaitingauthorisation": ConsentStatus.awaiting_authorization,
    "pending": ConsentStatus.awaiting_authorization,
    "rejected": ConsentStatus.rejected,
    "revoked": ConsentStatus.revoked,
    "expired": ConsentStatus.expired,
}
# Both the Open Banking statuses and the bank database's own leak through.
_TX_STATUS = {
    "booked": TransactionStatus.booked,
    "completed": TransactionStatus.booked,
    "pending": TransactionStatus.pending,
    "declined": TransactionStatus.declined,
    "rejected": TransactionStatus.declined,
    "refunded": TransactionStatus.refunded,
}
_SUB_TYPES = {
    "checking": AccountCategory.checking,
    "current": AccountCategory.checking,
    "currentaccount": AccountCategory.checking,
    "savings": AccountCategory.savings,
    "deposit": AccountCategory.deposit,
    "loan": AccountCategory.loan,
    "mortgage": AccountCategory.loan,
    "creditcard": AccountCategory.credit_card,
    "card": AccountCategory.card,
    "debitcard": AccountCategory.card,
}


def _key(value: Any) -> str:
    return str(value or "").replace("_", "").replace(" ", "").lower()


def consent_status(value: Any) -> ConsentStatus:
    return _CONSENT_STATUS.get(_key(value), ConsentStatus.unknown)


def transaction_status(value: Any) -> TransactionStatus:
    # Unknown statuses are treated as not final, so they never count as booked money.
    return _TX_STATUS.get(_key(value), TransactionStatus.pending)


def account_category(sub_type: Any) -> AccountCategory:
    # Classified by accountSubType only: accountType says "Business" for non-checking accounts.
    return _SUB_TYPES.get(_key(sub_type), AccountCategory.other)


def unwrap(payload: Any, *keys: str) -> Any:
    """`payload["data"][key]` or `payload[key]` or `payload`, whichever the bank sent."""
    body = payload.get("data", payload) if isinstance(payload, dict) else payload
    for key in keys:
        if isinstance(body, dict) and key in body:
            return body[key]
    return body


def mask_card(value: Any) -> str | None:
    """Card numbers are kept masked even if a bank ever sends a full PAN."""
    text = str(value or "").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    return f"****{digits[-4:]}" if len(digits) >= 4 else None


def _name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value) if value else None


def parse_account(item: dict[str, Any]) -> BankAccount:
    schemes = item.get("account") or []
    first = as_dict(schemes[0]) if isinstance(schemes, list) and schemes else {}
    opening = parse_datetime(item.get("openingDate"))
    return BankAccount(
        account_id=str(item["accountId"]),
        category=account_category(item.get("accountSubType")),
        sub_type=str(item.get("accountSubType") or ""),
        currency=str(item.get("currency") or "RUB"),
        nickname=item.get("nickname"),
        status=str(item.get("status") or "Enabled"),
        opening_date=opening.date() if opening else None,
        identification=first.get("identification"),
        holder_name=first.get("name"),
    )


def signed_amount(item: dict[str, Any]) -> tuple[Decimal, str]:
    """(signed amount, currency): the sign comes from creditDebitIndicator."""
    raw = item.get("amount")
    money = as_dict(raw)
    value = parse_decimal(money.get("amount") if money else raw)
    if value is None:
        raise ValueError("amount missing")
    currency = str(money.get("currency") or item.get("currency") or "RUB")
    indicator = _key(item.get("creditDebitIndicator") or item.get("credit_debit_indicator"))
    if indicator == "debit":
        return -abs(value), currency
    if indicator == "credit":
        return abs(value), currency
    return value, currency


def parse_balance(item: dict[str, Any], account_id: str) -> BankBalance:
    amount, currency = signed_amount(item)
    return BankBalance(
        account_id=str(item.get("accountId") or account_id),
        balance_type=str(item.get("type") or "InterimAvailable"),
        amount=amount,
        currency=currency,
        as_of=parse_datetime(item.get("dateTime")),
    )


def parse_transaction(item: dict[str, Any], account_id: str) -> BankTransaction:
    amount, currency = signed_amount(item)
    booked = parse_datetime(item.get("bookingDateTime")) or parse_datetime(
        item.get("valueDateTime")
    )
    if booked is None:
        raise ValueError("bookingDateTime missing")
    merchant = as_dict(item.get("merchant"))
    card = item.get("card")
    return BankTransaction(
        account_id=str(item.get("accountId") or account_id),
        transaction_id=str(item["transactionId"]),
        amount=amount,
        currency=currency,
        status=transaction_status(item.get("status")),
        raw_status=str(item.get("status") or ""),
        booked_at=booked,
        value_at=parse_datetime(item.get("valueDateTime")),
        description=item.get("transactionInformation"),
        bank_tx_code=as_dict(item.get("bankTransactionCode")).get("code"),
        merchant_name=merchant.get("name"),
        mcc=merchant.get("mccCode") or merchant.get("mcc"),
        merchant_category=merchant.get("category"),
        card_masked=mask_card(as_dict(card).get("cardNumber") if isinstance(card, dict) else card),
        counterparty=_name(item.get("counterparty")),
    )


def parse_consent_request(body: dict[str, Any]) -> ConsentRequestResult:
    consent_id = body.get("consent_id") or None
    return ConsentRequestResult(
        request_id=str(body.get("request_id") or consent_id or ""),
        consent_id=consent_id,
        status=consent_status(body.get("status")),
        # Branch on what the bank gave us, never on which bank it is.
        auto_approved=consent_id is not None,
        message=body.get("message"),
        created_at=parse_datetime(body.get("created_at")),
    )


def parse_account_consent(payload: dict[str, Any]) -> AccountConsent:
    data = as_dict(unwrap(payload))
    return AccountConsent(
        consent_id=str(data.get("consentId") or data.get("consent_id") or ""),
        status=consent_status(data.get("status")),
        permissions=tuple(data.get("permissions") or ()),
        created_at=parse_datetime(data.get("creationDateTime")),
        status_updated_at=parse_datetime(data.get("statusUpdateDateTime")),
        expires_at=parse_datetime(data.get("expirationDateTime")),
    )


def parse_user_consents(body: dict[str, Any]) -> list[UserConsent]:
    """`{"consents": [...]}`, snake_case; entries without a consent id are skipped."""
    items = body.get("consents")
    return [
        UserConsent(
            consent_id=str(item["consent_id"]),
            granted_to=item.get("granted_to"),
            status=consent_status(item.get("status")),
            signed_at=parse_datetime(item.get("signed_at")),
            expires_at=parse_datetime(item.get("expires_at")),
        )
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, dict) and item.get("consent_id")
    ]


def parse_sign_result(body: dict[str, Any]) -> ConsentSignResult:
    return ConsentSignResult(
        consent_id=body.get("consent_id") or None,
        status=consent_status(body.get("status")),
        permissions=tuple(body.get("permissions") or ()),
        expires_at=parse_datetime(body.get("expires_at")),
        signed_at=parse_datetime(body.get("signed_at")),
    )


def parse_product_consent_request(body: dict[str, Any]) -> ProductConsentRequestResult:
    consent_id = body.get("consent_id") or None
    return ProductConsentRequestResult(
        request_id=str(body.get("request_id") or consent_id or ""),
        consent_id=consent_id,
        status=consent_status(body.get("status")),
        auto_approved=consent_id is not None,
        message=body.get("message"),
        valid_until=parse_datetime(body.get("valid_until")),
    )


def parse_product_consent(payload: dict[str, Any]) -> ProductAgreementConsent:
    body = as_dict(unwrap(payload))
    return ProductAgreementConsent(
        consent_id=body.get("consent_id") or None,
        request_id=body.get("request_id"),
        client_id=body.get("client_id"),
        status=consent_status(body.get("status")),
        allowed_product_types=tuple(body.get("allowed_product_types") or ()),
        read_product_agreements=bool(body.get("read_product_agreements", True)),
        valid_until=parse_datetime(body.get("valid_until")),
    )


def parse_product(item: dict[str, Any]) -> BankProduct:
    return BankProduct(
        product_id=str(item.get("productId") or item.get("product_id")),
        product_type=str(item.get("productType") or item.get("product_type") or ""),
        name=item.get("productName") or item.get("product_name"),
        description=item.get("description"),
        interest_rate=parse_decimal(item.get("interestRate")),
        min_amount=parse_decimal(item.get("minAmount")),
        max_amount=parse_decimal(item.get("maxAmount")),
        term_months=parse_int(item.get("termMonths")),
    )


def parse_agreement(item: dict[str, Any]) -> ProductAgreement:
    return ProductAgreement(
        agreement_id=str(item.get("agreement_id") or item.get("agreementId")),
        product_id=item.get("product_id"),
        product_name=item.get("product_name"),
        product_type=str(item.get("product_type") or ""),
        amount=parse_decimal(item.get("amount")),
        status=item.get("status"),
        start_date=parse_datetime(item.get("start_date")),
        end_date=parse_datetime(item.get("end_date")),
        account_number=item.get("account_number"),
        interest_rate=parse_decimal(item.get("interest_rate")),
        account_balance=parse_decimal(item.get("account_balance")),
    )


def parse_card(item: dict[str, Any]) -> BankCard:
    return BankCard(
        card_id=str(item.get("cardId") or item.get("card_id")),
        masked_number=mask_card(item.get("cardNumber") or item.get("card_number")),
        card_type=item.get("cardType") or item.get("card_type"),
        name=item.get("cardName") or item.get("card_name"),
        status=item.get("status"),
        account_id=item.get("accountId") or item.get("account_id"),
    )
