"""API views of a stored snapshot (`analytics_snapshots.data`, the JSON of `Snapshot.to_dict`).

Pure dict transforms shared by the snapshot activity (which pre-assembles the dashboard
block) and the API routes. Money figures keep their integer `value` in minor units and gain
an `amount` decimal string, the API's money format everywhere else.
"""

from __future__ import annotations

from typing import Any

from models.amounts import format_minor

UPCOMING_LIMIT = 10


def present(figure: dict[str, Any] | None) -> dict[str, Any] | None:
    """A figure as the API shows it: money figures also carry a decimal `amount`."""
    if figure is None:
        return None
    unit = str(figure.get("unit", ""))
    value = figure.get("value")
    if unit.startswith("minor:") and isinstance(value, int):
        return {**figure, "amount": format_minor(value, unit.removeprefix("minor:"))}
    return dict(figure)


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "amount": format_minor(amount_minor, currency)}


def sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-currency sections, the primary currency first."""
    currencies: dict[str, dict[str, Any]] = data.get("currencies", {})
    primary = data.get("primary_currency")
    return sorted(currencies.values(), key=lambda s: (s["currency"] != primary, s["currency"]))


def loan_view(loan: dict[str, Any]) -> dict[str, Any]:
    return {
        "agreement_id": loan["agreement_id"],
        "bank_code": loan["bank_code"],
        "product_name": loan["product_name"],
        "currency": loan["currency"],
        "outstanding": present(loan["outstanding"]),
        "annual_rate": present(loan["annual_rate"]),
        "remaining_months": present(loan["remaining_months"]),
        "monthly_payment": present(loan["monthly_payment"]),
        "next_due": present(loan["next_due"]),
        "end_date": loan["end_date"],
        "days_overdue": loan["days_overdue"],
    }


def debt_view(section: dict[str, Any]) -> dict[str, Any]:
    debt = section["debt"]
    return {
        "currency": section["currency"],
        "total_debt": present(debt["total_debt"]),
        "monthly_payments": present(debt["monthly_payments"]),
        "dsti": present(debt["dsti"]),
        "dsti_band": debt["dsti_band"],
        "regular_income": present(section["regular_income"]),
        "next_payment": next_payment_view(debt["next_payment"], section["currency"]),
        "loans": [loan_view(loan) for loan in debt["loans"]],
    }


def next_payment_view(figure: dict[str, Any], currency: str) -> dict[str, Any] | None:
    """The earliest loan payment, or None when no loan payment is due."""
    if figure.get("value") is None:
        return None
    inputs = figure.get("inputs", {})
    amount = inputs.get("amount_minor")
    return {
        "due": figure["value"],
        "currency": currency,
        **(money(amount, currency) if isinstance(amount, int) else {}),
        "agreement_id": inputs.get("agreement_id"),
        "product_name": inputs.get("product_name"),
        "source": figure.get("source"),
        "explanation": figure.get("explanation"),
    }


def recurring_view(section: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "payee": bill["payee"],
            "category": bill["category"],
            "currency": bill["currency"],
            **money(bill["typical_minor"], bill["currency"]),
            "day_of_month": bill["day_of_month"],
            "occurrences": bill["occurrences"],
            "last_date": bill["last_date"],
            "next_due": bill["next_due"],
            "status": bill["status"],
            "source": "transactions",
        }
        for bill in section["recurring_bills"]
    ]


def upcoming_payments(data: dict[str, Any], limit: int = UPCOMING_LIMIT) -> list[dict[str, Any]]:
    """Next loan payments and recurring bills across currencies, soonest first."""
    items: list[dict[str, Any]] = []
    for section in sections(data):
        currency = section["currency"]
        for loan in section["debt"]["loans"]:
            amount = loan["monthly_payment"]["value"]
            if loan["next_due"]["value"] is not None and isinstance(amount, int) and amount > 0:
                items.append(
                    {
                        "due": loan["next_due"]["value"],
                        "kind": "loan",
                        "name": loan["product_name"],
                        "currency": currency,
                        **money(amount, currency),
                        "source": loan["monthly_payment"]["source"],
                    }
                )
        for bill in recurring_view(section):
            items.append(
                {
                    "due": bill["next_due"],
                    "kind": "bill",
                    "name": bill["payee"],
                    "currency": currency,
                    "amount_minor": bill["amount_minor"],
                    "amount": bill["amount"],
                    "source": "transactions",
                }
            )
    return sorted(items, key=lambda p: (p["due"], p["kind"], p["name"]))[:limit]


def headline(section: dict[str, Any]) -> dict[str, Any]:
    """The figures of one currency the dashboard headlines."""
    sts, debt, forecast = section["safe_to_spend"], section["debt"], section["forecast"]
    return {
        "currency": section["currency"],
        "liquid_available": present(section["liquid_available"]),
        "safe_to_spend": present(sts["safe_to_spend"]),
        "safe_to_spend_per_day": present(sts["per_day"]),
        "overspent": sts["overspent"],
        "message": sts["message"],
        "days_until_income": sts["days_until_income"],
        "next_income_date": present(section["next_income_date"]),
        "total_debt": present(debt["total_debt"]),
        "monthly_debt_payments": present(debt["monthly_payments"]),
        "dsti": present(debt["dsti"]),
        "dsti_band": debt["dsti_band"],
        "next_payment": next_payment_view(debt["next_payment"], section["currency"]),
        "forecast": {
            "lowest_balance": present(forecast["lowest_balance"]),
            "lowest_date": forecast["lowest_date"],
            "goes_negative": forecast["goes_negative"],
        },
    }


def dashboard_block(data: dict[str, Any]) -> dict[str, Any]:
    """Everything the dashboard shows from a snapshot, assembled once when it is stored."""
    primary, *others = sections(data)
    metrics = {
        "as_of": data["as_of"],
        "primary_currency": primary["currency"],
        **headline(primary),
        "health": data["health"],
        "other_currencies": [headline(section) for section in others],
    }
    debts = [loan_view(loan) for section in sections(data) for loan in section["debt"]["loans"]]
    return {"metrics": metrics, "debts": debts, "next_payments": upcoming_payments(data)}
