"""Reference data an administrator edits: which bank offers which payment method, and the
API schemas of currencies, banks and payment methods (their tables live in
`models.traders`, next to the requisites that point at them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StrictBool, StringConstraints
from sqlmodel import Field, SQLModel

from models.amounts import CURRENCY_PATTERN
from models.inputs import JsonInt

# Bank and payment-method codes as requisites and orders carry them: `sber`, `card`, `sbp`.
CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
# A name shows somewhere: at least one visible character.
NAME_PATTERN = r"\S"

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NAME_PATTERN)]
CurrencyName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=NAME_PATTERN)]
CurrencyCode = Annotated[str, StringConstraints(pattern=CURRENCY_PATTERN)]
Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
MinorUnits = Annotated[JsonInt, Field(ge=0, le=8)]


class BankPaymentMethod(SQLModel, table=True):
    """The bank offers this payment method: a new requisite must name an offered pair."""

    __tablename__ = "bank_payment_methods"

    bank_code: str = Field(foreign_key="banks.code", primary_key=True, max_length=32)
    payment_method: str = Field(foreign_key="payment_methods.code", primary_key=True, max_length=32)


class CurrencyCreate(SQLModel):
    code: CurrencyCode
    name: CurrencyName
    minor_units: MinorUnits = 2
    is_active: StrictBool = True


class CurrencyUpdate(SQLModel):
    """Sent fields change, others stay; null is refused. `minor_units` only while the
    currency is in use nowhere (stored amounts are counted in them)."""

    name: CurrencyName | None = None
    minor_units: MinorUnits | None = None
    is_active: StrictBool | None = None


class CurrencyAdmin(SQLModel):
    code: str
    name: str
    minor_units: int
    is_active: bool


class NamedCreate(SQLModel):
    """A bank or a payment method."""

    code: Code
    name: Name
    is_active: StrictBool = True


class NamedUpdate(SQLModel):
    """Sent fields change, others stay; null is refused."""

    name: Name | None = None
    is_active: StrictBool | None = None


class NamedAdmin(SQLModel):
    code: str
    name: str
    is_active: bool


class BankAdmin(NamedAdmin):
    # The payment methods the bank offers (codes, sorted).
    payment_methods: list[str]


class BankMethodRef(SQLModel):
    bank_code: str
    payment_method: str
