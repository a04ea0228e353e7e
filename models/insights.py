"""API answers built from a stored analytics snapshot: figures, money, debts, bills, products.

Built by `models.analytics_views` from the snapshot's JSON. Every model forbids keys it does
not declare, so an answer that validates is fully described by its OpenAPI schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from models.amounts import exponent, to_decimal
from models.analytics import AnalyticsSnapshot

STATUS_READY: Final = "ready"
STATUS_NO_DATA: Final = "no_data"


def _absent(value: object) -> bool:
    return value is None


def omitted_when_none(description: str) -> Any:
    """A field left out of the JSON (not shown as null) when it has no value."""
    return Field(default=None, exclude_if=_absent, description=description)


class StrictPublic(BaseModel):
    """An API answer whose keys are exactly its fields: an unknown key is an error."""

    model_config = ConfigDict(extra="forbid")


class FigurePublic(StrictPublic):
    """One explained number: its value, unit, inputs, period, explanation and source."""

    value: int | str | bool | None
    unit: str = Field(description='"minor:RUB", "percent", "months", "date", …')
    inputs: dict[str, Any]
    period: str | None
    explanation: str
    source: str
    amount: str | None = omitted_when_none("Decimal string of a money figure's value.")

    @classmethod
    def from_snapshot(cls, figure: dict[str, Any]) -> FigurePublic:
        """A stored figure; money figures (integer minor units) also get a decimal amount."""
        unit, value = str(figure.get("unit", "")), figure.get("value")
        amount = None
        if unit.startswith("minor:") and isinstance(value, int):
            amount = to_decimal(value, exponent(unit.removeprefix("minor:")))
        return cls.model_validate({**figure, "amount": amount})


def money_fields(amount_minor: int, currency: str) -> dict[str, Any]:
    """The pair every money value carries: minor units and the decimal string."""
    return {"amount_minor": amount_minor, "amount": to_decimal(amount_minor, exponent(currency))}


# Models that carry money declare `amount_minor` and `amount` where the keys have always
# appeared in the JSON, so the answers keep their key order.
class MoneyPublic(StrictPublic):
    amount_minor: int
    amount: str = Field(description="Decimal string, the API's money format.")


class CategorySpendPublic(StrictPublic):
    category: str
    amount_minor: int
    amount: str


class DaySpendPublic(StrictPublic):
    date: dt.date
    amount_minor: int
    amount: str


class PeriodSummaryPublic(StrictPublic):
    currency: str
    start: dt.date
    end: dt.date
    income: MoneyPublic
    spending: MoneyPublic
    net: MoneyPublic
    spending_by_category: list[CategorySpendPublic]
    spending_by_day: list[DaySpendPublic]
    explanation: str
    source: str


class RecurringBillPublic(StrictPublic):
    payee: str
    category: str
    currency: str
    amount_minor: int
    amount: str
    day_of_month: int
    occurrences: int
    last_date: dt.date
    next_due: dt.date
    status: str
    source: str


class LoanPublic(StrictPublic):
    agreement_id: str
    bank_code: str
    product_name: str
    currency: str
    outstanding: FigurePublic
    annual_rate: FigurePublic
    remaining_months: FigurePublic
    monthly_payment: FigurePublic
    next_due: FigurePublic
    end_date: dt.date | None
    days_overdue: int


class NextPaymentPublic(StrictPublic):
    """The earliest predicted loan payment of one currency."""

    due: dt.date
    currency: str
    amount_minor: int | None = omitted_when_none("The payment in minor units, when known.")
    amount: str | None = omitted_when_none("The payment as a decimal string, when known.")
    agreement_id: str | None
    product_name: str | None
    source: str
    explanation: str


class DebtPublic(StrictPublic):
    currency: str
    total_debt: FigurePublic
    monthly_payments: FigurePublic
    dsti: FigurePublic
    dsti_band: str
    regular_income: FigurePublic
    next_payment: NextPaymentPublic | None
    loans: list[LoanPublic]


class SourcedMoneyPublic(MoneyPublic):
    currency: str
    source: str


class RatePublic(StrictPublic):
    value: str | None = Field(description="Annual rate in percent, a decimal string.")
    unit: str
    source: str | None


class ProductPublic(StrictPublic):
    """A product agreement (loan, deposit, card) with its linked account and loan figures."""

    agreement_id: str
    bank_code: str
    product_id: str | None
    product_name: str | None
    product_type: str
    status: str
    start_date: dt.datetime | None
    end_date: dt.datetime | None
    account_number_masked: str | None
    linked_account_id: str | None
    amount: SourcedMoneyPublic | None
    balance: SourcedMoneyPublic | None
    interest_rate: RatePublic
    loan: LoanPublic | None


class SnapshotEnvelope(StrictPublic):
    """Which snapshot an answer comes from; `no_data` (and nulls) before the first one."""

    status: Literal["ready", "no_data"]
    as_of: dt.datetime | None
    computed_at: dt.datetime | None

    @classmethod
    def of(cls, snapshot: AnalyticsSnapshot | None, **body: Any) -> Self:
        return cls(
            status=STATUS_READY if snapshot else STATUS_NO_DATA,
            as_of=snapshot.as_of if snapshot else None,
            computed_at=snapshot.computed_at if snapshot else None,
            **body,
        )


class TransactionsSummaryPublic(SnapshotEnvelope):
    period: Literal["30d", "90d", "month"]
    currencies: list[PeriodSummaryPublic]


class RecurringBillsPublic(SnapshotEnvelope):
    bills: list[RecurringBillPublic]


class DebtsPublic(SnapshotEnvelope):
    currencies: list[DebtPublic]


class NextPaymentsPublic(SnapshotEnvelope):
    next_payment: NextPaymentPublic | None = Field(description="The soonest across currencies.")
    by_currency: list[NextPaymentPublic]


class ProductsPublic(SnapshotEnvelope):
    products: list[ProductPublic]
