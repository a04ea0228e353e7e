"""What reference data may be used for: a currency, bank or payment method in use somewhere
cannot be deleted (only disabled), and a disabled one is refused for every new store,
requisite and order while everything that already names it keeps working."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, SQLModel, select

from core.errors import Invalid
from models.reference import BankPaymentMethod
from models.traders import Bank, Currency, PaymentMethod
from processing.errors import UnknownReference


@dataclass(frozen=True)
class Kind:
    """One kind of reference data: its table, the word its codes use (`currency_in_use`)
    and every column (`table.column`) that names one of its rows."""

    model: type[Currency] | type[Bank] | type[PaymentMethod]
    word: str
    uses: tuple[str, ...]


CURRENCY = Kind(
    Currency,
    "currency",
    (
        "stores.currency",
        "stores.settlement_currency",
        "traders.settlement_currency",
        "requisites.currency",
        "orders.currency",
        "orders.store_currency",
        "orders.trader_currency",
        "ledger_accounts.currency",
        "ledger_accounts.counter_currency",
        "exchange_rates.base",
        "exchange_rates.quote",
        "deposits.currency",
        "withdrawals.currency",
    ),
)
BANK = Kind(
    Bank, "bank", ("requisites.bank_code", "orders.bank_code", "orders.recipient_bank_code")
)
PAYMENT_METHOD = Kind(
    PaymentMethod, "payment_method", ("requisites.payment_method", "orders.payment_method")
)
KINDS = (CURRENCY, BANK, PAYMENT_METHOD)


def used_by(session: Session, kind: Kind, code: str) -> list[str]:
    """The tables (`table.column`) where a row names this code."""
    found = []
    for use in kind.uses:
        table_name, column_name = use.split(".")
        column = SQLModel.metadata.tables[table_name].c[column_name]
        if session.exec(select(column).where(column == code).limit(1)).first() is not None:
            found.append(use)
    return found


class ReferenceDisabled(Invalid):
    """The code exists but an administrator disabled it: nothing new may use it."""

    def __init__(self, kind: Kind, code: str) -> None:
        super().__init__(
            f"The {kind.word.replace('_', ' ')} {code!r} is disabled",
            code=f"{kind.word}_disabled",
            details={"field": kind.word, "value": code},
        )


def _row(session: Session, kind: Kind, code: str) -> Currency | Bank | PaymentMethod | None:
    return session.get(kind.model, code)  # type: ignore[return-value]


def require_usable(session: Session, kind: Kind, code: str, *, field: str) -> None:
    """A new use of `code` (a store, requisite or order): known and enabled, else 422
    (`unknown_<field>`, or `<kind>_disabled`)."""
    row = _row(session, kind, code)
    if row is None:
        raise UnknownReference(field, code)
    if not row.is_active:
        raise ReferenceDisabled(kind, code)


def refuse_disabled(session: Session, kind: Kind, code: str | None) -> None:
    """A new order naming a disabled code (an unknown one simply matches nothing)."""
    row = None if code is None else _row(session, kind, code)
    if row is not None and not row.is_active:
        raise ReferenceDisabled(kind, row.code)


def require_offered(session: Session, bank_code: str, payment_method: str) -> None:
    """A new requisite names a pair the bank offers (`payment_method_not_offered`)."""
    if session.get(BankPaymentMethod, (bank_code, payment_method)) is None:
        raise Invalid(
            f"Bank {bank_code!r} does not offer {payment_method!r}",
            code="payment_method_not_offered",
            details={"bank_code": bank_code, "payment_method": payment_method},
        )
