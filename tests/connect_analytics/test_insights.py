"""Spending summary, recurring bills, products and debts through the API (as_of 2026-03-20)."""

from __future__ import annotations

from typing import Any

import httpx

from core.context import ServiceContext
from models.banking import AccountKind
from tests.connect_analytics.bankdata import steady_earner
from tests.connect_analytics.conftest import NewUser, snapshot
from tests.factories import Actor


async def _get(api: httpx.AsyncClient, user: Actor, path: str) -> dict[str, Any]:
    response = await api.get(path, headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_summary_by_period_category_and_day(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    acc = steady_earner(data)
    # A transfer between the user's own accounts is neither income nor spending.
    savings = data.account("acc-2", "Savings", 10_000)
    data.tx(acc, "2026-03-12", -7_000, "Перевод себе")
    data.tx(savings, "2026-03-12", 7_000, "Перевод себе")
    data.save(ctx.engine)
    snapshot(ctx, user)

    body = await _get(api, user, "/api/transactions/summary?period=30d")
    [rub] = body["currencies"]
    # The 30 calendar days 02-19 … 03-20: salary 03-05; groceries 03-01, 03-18 (not 02-18,
    # the 31st day back); internet 02-25; rent 03-10.
    assert (rub["start"], rub["end"]) == ("2026-02-19", "2026-03-20")
    assert rub["income"]["amount"] == "80000.00"
    assert rub["spending"]["amount"] == "39000.00"
    assert rub["net"]["amount"] == "41000.00"
    by_category = {c["category"]: c["amount_minor"] for c in rub["spending_by_category"]}
    assert by_category == {"rent_utilities": 3_100_000, "groceries": 800_000}
    by_day = {d["date"]: d["amount_minor"] for d in rub["spending_by_day"]}
    assert len(by_day) == 30 and sum(by_day.values()) == 3_900_000
    assert (by_day["2026-03-10"], by_day["2026-03-12"], by_day["2026-03-11"]) == (3_000_000, 0, 0)

    month = (await _get(api, user, "/api/transactions/summary?period=month"))["currencies"][0]
    # March: salary 80 000; rent 30 000 and groceries 2 × 4 000.
    assert (month["income"]["amount"], month["spending"]["amount"]) == ("80000.00", "38000.00")
    quarter = (await _get(api, user, "/api/transactions/summary?period=90d"))["currencies"][0]
    assert quarter["start"] == "2025-12-21" and len(quarter["spending_by_day"]) == 90


async def test_bad_period_is_a_422_in_the_error_shape(
    api: httpx.AsyncClient, new_user: NewUser
) -> None:
    user, _ = await new_user()
    response = await api.get("/api/transactions/summary?period=7y", headers=user.headers)
    assert response.status_code == 422
    error = response.json()["error"]
    # The periods are the parameter's enum in the document: refused there, naming them.
    assert error["code"] == "validation_error"
    assert "'30d', '90d' or 'month'" in error["details"][0]["msg"]


async def test_recurring_bills_with_next_due_dates(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    steady_earner(data)
    data.save(ctx.engine)
    snapshot(ctx, user)

    bills = (await _get(api, user, "/api/transactions/recurring"))["bills"]
    # Rent on the 10th (4 times) → 04-10; internet on the 25th (3 times) → 03-25.
    # Groceries twice a month are not a monthly bill; salary is not a bill.
    assert [(b["payee"], b["next_due"], b["amount"], b["occurrences"]) for b in bills] == [
        ("провайдер", "2026-03-25", "1000.00", 3),
        ("ип арендодатель", "2026-04-10", "30000.00", 4),
    ]


async def test_debts_products_and_next_payment_name_their_sources(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    steady_earner(data)
    data.account(
        "acc-L", "Loan", 500_000, bank="abank", kind=AccountKind.liability, number_masked="**1234"
    )
    data.loan_agreement("agr-1", "abank", 600_000, "12", "2028-02-20", "**1234")
    # No rate, no end date, no linked account: settings' fallbacks (20 %, 12 months) and
    # the original amount, all marked as estimates.
    data.loan_agreement("agr-2", "vbank", 120_000, None, None, None)
    data.save(ctx.engine)
    snapshot(ctx, user)

    [rub] = (await _get(api, user, "/api/debts"))["currencies"]
    loans = {loan["agreement_id"]: loan for loan in rub["loans"]}
    assert loans["agr-1"]["monthly_payment"]["value"] == 2_353_674
    assert loans["agr-1"]["outstanding"]["source"] == "account_balance"
    # agr-2: 120 000 at 20 %/12 a month over 12 months = 11 116.14.
    assert loans["agr-2"]["monthly_payment"]["value"] == 1_111_614
    assert loans["agr-2"]["monthly_payment"]["source"] == "estimate"
    assert loans["agr-2"]["annual_rate"]["source"] == "estimate"
    assert loans["agr-2"]["outstanding"]["source"] == "estimate"
    # Total 500 000 + 120 000; DSTI (23 536.74 + 11 116.14) / 80 000 = 43.3 % → caution.
    assert rub["total_debt"]["value"] == 62_000_000
    assert rub["monthly_payments"]["value"] == 3_465_288
    assert (rub["dsti"]["value"], rub["dsti_band"]) == ("43.3", "caution")

    nxt = (await _get(api, user, "/api/debts/next-payment"))["next_payment"]
    # agr-1 pays on the 20th (today); agr-2 has no end date, so a month from now.
    assert (nxt["due"], nxt["agreement_id"], nxt["amount"]) == ("2026-03-20", "agr-1", "23536.74")

    products = {p["agreement_id"]: p for p in (await _get(api, user, "/api/products"))["products"]}
    assert products["agr-1"]["linked_account_id"] == "acc-L"
    assert products["agr-1"]["balance"]["source"] == "account_balance"
    assert products["agr-1"]["amount"] == {
        "amount_minor": 60_000_000,
        "amount": "600000.00",
        "currency": "RUB",
        "source": "agreement",
    }
    assert products["agr-1"]["interest_rate"]["source"] == "agreement"
    assert products["agr-1"]["loan"]["monthly_payment"]["amount"] == "23536.74"
    assert products["agr-2"]["linked_account_id"] is None
