"""API views of a stored snapshot (`analytics_snapshots.data`, the JSON of `Snapshot.to_dict`).

Pure transforms into the response models of `models.insights` and `models.dashboard`,
shared by the snapshot activity (which pre-assembles the dashboard block) and the API
routes. Money figures keep their integer `value` in minor units and gain an `amount`
decimal string, the API's money format everywhere else.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from models.dashboard import (
    DashboardBlock,
    DashboardMetricsPublic,
    ForecastPublic,
    HeadlinePublic,
    HealthPublic,
    UpcomingPaymentPublic,
)
from models.insights import (
    CategorySpendPublic,
    DaySpendPublic,
    DebtPublic,
    FigurePublic,
    LoanPublic,
    MoneyPublic,
    NextPaymentPublic,
    PeriodSummaryPublic,
    RecurringBillPublic,
    money_fields,
)

UPCOMING_LIMIT = 10
# A stored figure as the API shows it: money figures gain a decimal `amount`.
present = FigurePublic.from_snapshot


def sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-currency sections, the primary currency first."""
    currencies: dict[str, dict[str, Any]] = data.get("currencies", {})
    primary = data.get("primary_currency")
    return sorted(currencies.values(), key=lambda s: (s["currency"] != primary, s["currency"]))


def loan_view(loan: dict[str, Any]) -> LoanPublic:
    return LoanPublic(
        agreement_id=loan["agreement_id"],
        bank_code=loan["bank_code"],
        product_name=loan["product_name"],
        currency=loan["currency"],
        outstanding=present(loan["outstanding"]),
        annual_rate=present(loan["annual_rate"]),
        remaining_months=present(loan["remaining_months"]),
        monthly_payment=present(loan["monthly_payment"]),
        next_due=present(loan["next_due"]),
        end_date=loan["end_date"],
        days_overdue=loan["days_overdue"],
    )


def debt_view(section: dict[str, Any]) -> DebtPublic:
    debt = section["debt"]
    return DebtPublic(
        currency=section["currency"],
        total_debt=present(debt["total_debt"]),
        monthly_payments=present(debt["monthly_payments"]),
        dsti=present(debt["dsti"]),
        dsti_band=debt["dsti_band"],
        regular_income=present(section["regular_income"]),
        next_payment=next_payment_view(debt["next_payment"], section["currency"]),
        loans=[loan_view(loan) for loan in debt["loans"]],
    )


def next_payment_view(figure: dict[str, Any], currency: str) -> NextPaymentPublic | None:
    """The earliest loan payment, or None when no loan payment is due."""
    if figure.get("value") is None:
        return None
    inputs = figure.get("inputs", {})
    amount = inputs.get("amount_minor")
    return NextPaymentPublic(
        due=figure["value"],
        currency=currency,
        **(money_fields(amount, currency) if isinstance(amount, int) else {}),
        agreement_id=inputs.get("agreement_id"),
        product_name=inputs.get("product_name"),
        source=figure.get("source"),
        explanation=figure.get("explanation"),
    )


def recurring_view(section: dict[str, Any]) -> list[RecurringBillPublic]:
    return [
        RecurringBillPublic(
            payee=bill["payee"],
            category=bill["category"],
            currency=bill["currency"],
            **money_fields(bill["typical_minor"], bill["currency"]),
            day_of_month=bill["day_of_month"],
            occurrences=bill["occurrences"],
            last_date=bill["last_date"],
            next_due=bill["next_due"],
            status=bill["status"],
            source="transactions",
        )
        for bill in section["recurring_bills"]
    ]


def period_view(section: dict[str, Any], daily: dict[str, int], period: str) -> PeriodSummaryPublic:
    """Income, spending and net of one currency over a period, by category and by day."""
    summary, currency = section["summaries"][period], section["currency"]
    start, end = date.fromisoformat(summary["start"]), date.fromisoformat(summary["end"])
    by_category = sorted(summary["spending_by_category"].items(), key=lambda kv: (-kv[1], kv[0]))
    return PeriodSummaryPublic(
        currency=currency,
        start=start,
        end=end,
        income=MoneyPublic(**money_fields(summary["income_minor"], currency)),
        spending=MoneyPublic(**money_fields(summary["spending_minor"], currency)),
        net=MoneyPublic(**money_fields(summary["net_minor"], currency)),
        spending_by_category=[
            CategorySpendPublic(category=name, **money_fields(amount, currency))
            for name, amount in by_category
        ],
        spending_by_day=[
            DaySpendPublic(date=day, **money_fields(amount, currency))
            for day, amount in daily.items()
            if start <= date.fromisoformat(day) <= end
        ],
        explanation="Credits and debits that are not transfers between your own accounts.",
        source="transactions",
    )


def upcoming_payments(
    data: dict[str, Any], limit: int = UPCOMING_LIMIT
) -> list[UpcomingPaymentPublic]:
    """Next loan payments and recurring bills across currencies, soonest first."""
    items: list[UpcomingPaymentPublic] = []
    for section in sections(data):
        currency = section["currency"]
        for loan in section["debt"]["loans"]:
            payment, due = loan["monthly_payment"], loan["next_due"]["value"]
            if due is not None and isinstance(payment["value"], int) and payment["value"] > 0:
                items.append(
                    UpcomingPaymentPublic(
                        due=due,
                        kind="loan",
                        name=loan["product_name"],
                        currency=currency,
                        **money_fields(payment["value"], currency),
                        source=payment["source"],
                    )
                )
        for bill in recurring_view(section):
            items.append(
                UpcomingPaymentPublic(
                    due=bill.next_due,
                    kind="bill",
                    name=bill.payee,
                    currency=currency,
                    amount_minor=bill.amount_minor,
                    amount=bill.amount,
                    source="transactions",
                )
            )
    return sorted(items, key=lambda p: (p.due, p.kind, p.name))[:limit]


def headline(section: dict[str, Any]) -> HeadlinePublic:
    """The figures of one currency the dashboard headlines."""
    sts, debt, forecast = section["safe_to_spend"], section["debt"], section["forecast"]
    return HeadlinePublic(
        currency=section["currency"],
        liquid_available=present(section["liquid_available"]),
        safe_to_spend=present(sts["safe_to_spend"]),
        safe_to_spend_per_day=present(sts["per_day"]),
        overspent=sts["overspent"],
        message=sts["message"],
        days_until_income=sts["days_until_income"],
        next_income_date=present(section["next_income_date"]),
        total_debt=present(debt["total_debt"]),
        monthly_debt_payments=present(debt["monthly_payments"]),
        dsti=present(debt["dsti"]),
        dsti_band=debt["dsti_band"],
        next_payment=next_payment_view(debt["next_payment"], section["currency"]),
        forecast=ForecastPublic(
            lowest_balance=present(forecast["lowest_balance"]),
            lowest_date=forecast["lowest_date"],
            goes_negative=forecast["goes_negative"],
        ),
    )


def dashboard_view(data: dict[str, Any]) -> DashboardBlock:
    """Everything the dashboard shows from a snapshot."""
    primary, *others = sections(data)
    metrics = DashboardMetricsPublic(
        as_of=data["as_of"],
        primary_currency=primary["currency"],
        **dict(headline(primary)),
        health=HealthPublic.model_validate(data["health"]),
        other_currencies=[headline(section) for section in others],
    )
    debts = [loan_view(loan) for section in sections(data) for loan in section["debt"]["loans"]]
    return DashboardBlock(metrics=metrics, debts=debts, next_payments=upcoming_payments(data))


def dashboard_block(data: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's JSON, assembled once when the snapshot is stored (see `DashboardBlock`)."""
    return dashboard_view(data).model_dump(mode="json")
