"""GET /api/dashboard on hand-built bank data, with each worked answer written out.

as_of is 2026-03-20 (noon UTC) throughout, so "today" is 20 March 2026.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlmodel import Session

from analytics import AnalyticsSettings
from connect import snapshots
from connect.snapshots import load_user_rows, snapshot_data
from core.context import ServiceContext
from models.banking import AccountKind
from models.connect import ConnectionStatus
from tests.connect_analytics.bankdata import AS_OF, steady_earner
from tests.connect_analytics.conftest import NewUser, snapshot
from tests.factories import Actor


async def _dashboard(api: httpx.AsyncClient, user: Actor) -> dict[str, Any]:
    response = await api.get("/api/dashboard", headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_safe_to_spend_forecast_and_health_of_a_steady_earner(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    steady_earner(data)
    data.connection("vbank")
    data.save(ctx.engine)
    snapshot(ctx, user)

    body = await _dashboard(api, user)
    m = body["metrics"]
    assert body["status"] == "ready"
    # Next salary: the 5th → 2026-04-05, 16 days away. Due before it: internet 1 000 on the
    # 25th (rent is on 10 April, after payday). Buffer: 10% of Dec–Feb average spending
    # (30 000 + 1 000 + 2 × 4 000 = 39 000) = 3 900.
    # Safe-to-Spend = 100 000 − 1 000 − 0 − 3 900 = 95 100.00; per day 95 100 / 16 = 5 943.75.
    assert m["next_income_date"]["value"] == "2026-04-05"
    assert m["safe_to_spend"]["value"] == 9_510_000
    assert m["safe_to_spend"]["amount"] == "95100.00"
    assert m["safe_to_spend"]["inputs"]["bills_and_loans_due_minor"] == 100_000
    assert m["safe_to_spend"]["inputs"]["safety_buffer_minor"] == 390_000
    assert m["safe_to_spend_per_day"]["value"] == 594_375
    assert m["overspent"] is False
    assert m["message"].startswith("You can spend 95 100.00 RUB")
    # Forecast: groceries are the only discretionary spending: 6 × 4 000 in the last 90
    # days = 24 000 / 90 = 266.67 a day. Lowest the day before payday (04-04):
    # 100 000 − 16 × 266.67 − 1 000 = 94 733.28.
    assert m["forecast"]["lowest_date"] == "2026-04-04"
    assert m["forecast"]["lowest_balance"]["value"] == 9_473_328
    assert m["forecast"]["goes_negative"] is False
    # Health: spend 100 (income 240 000 / spending 117 000), bills 100, liquid savings
    # 100 000 / 39 000 = 2.56 months of essentials → 43, no savings account, debt 100 (no
    # loans): (100 + 100 + 43 + 100) / 4 = 85.75 → 86, Healthy, 4 of 5 components → medium.
    health = m["health"]
    assert (health["score"], health["tier"], health["confidence"]) == (86, "Healthy", "medium")
    scores = {c["name"]: c["score"] for c in health["components"]}
    assert scores == {
        "spend_vs_income": 100,
        "bills_on_time": 100,
        "liquid_savings": 43,
        "savings_trend": None,
        "manageable_debt": 100,
    }
    # No loans: no debt, DSTI 0 %, nothing to pay.
    assert m["total_debt"]["value"] == 0
    assert (m["dsti"]["value"], m["dsti_band"]) == ("0.0", "fine")
    assert m["next_payment"] is None
    assert body["debts"] == []
    assert [(p["due"], p["name"], p["amount"]) for p in body["next_payments"]] == [
        ("2026-03-25", "провайдер", "1000.00"),
        ("2026-04-10", "ип арендодатель", "30000.00"),
    ]
    assert [a["external_id"] for a in body["accounts"]] == ["acc-1"]
    assert body["balances"][0]["liquid"]["amount"] == "100000.00"


async def test_new_transactions_change_the_figures_after_a_recompute(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    acc = steady_earner(data)
    data.save(ctx.engine)
    snapshot(ctx, user)
    assert (await _dashboard(api, user))["metrics"]["safe_to_spend"]["value"] == 9_510_000

    # A gym membership 2 000 on the 28th of Jan and Feb: a monthly bill due 03-28.
    data.monthly(acc, ["2026-01-28", "2026-02-28"], -2_000, "Абонемент", counterparty="Фитнес")
    data.save(ctx.engine)
    snapshot(ctx, user)

    m = (await _dashboard(api, user))["metrics"]
    # Spending Dec–Feb 39 000 + 41 000 + 41 000 → average 40 333.33, buffer 4 033.33;
    # due before payday 1 000 + 2 000. Safe-to-Spend = 100 000 − 3 000 − 4 033.33 = 92 966.67.
    assert m["safe_to_spend"]["value"] == 9_296_667
    assert m["safe_to_spend"]["inputs"]["bills_and_loans_due_minor"] == 300_000
    # The gym is a bill, not discretionary: the low point drops by exactly 2 000.
    assert m["forecast"]["lowest_balance"]["value"] == 9_273_328


async def test_overspent_user_is_told_so(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    acc = data.account("acc-1", balance_rub=5_000)
    data.monthly(acc, ["2025-12-25", "2026-01-25", "2026-02-25"], 50_000, "Зарплата")
    days = ["2025-12-22", "2026-01-22", "2026-02-22"]
    data.monthly(acc, days, -30_000, "Аренда", counterparty="Landlord")
    for day in ("01", "15"):
        days = [f"{m}-{day}" for m in ("2025-12", "2026-01", "2026-02", "2026-03")]
        data.monthly(acc, days, -4_000, "Продукты", merchant_name="Магнит")
    data.save(ctx.engine)
    snapshot(ctx, user)

    m = (await _dashboard(api, user))["metrics"]
    # Payday the 25th → 5 days. Rent 30 000 due on the 22nd; buffer 10% of 38 000.
    # Safe-to-Spend = 5 000 − 30 000 − 3 800 = −28 800.00; per day −5 760.00.
    assert m["safe_to_spend"]["value"] == -2_880_000
    assert m["safe_to_spend_per_day"]["value"] == -576_000
    assert m["overspent"] is True
    assert m["message"].startswith("Overspent")
    assert "28 800.00 RUB" in m["message"]


async def test_user_with_only_a_loan(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    data.account(
        "acc-L", "Loan", 500_000, bank="abank", kind=AccountKind.liability, number_masked="**1234"
    )
    data.loan_agreement("agr-1", "abank", 600_000, "12", "2028-02-20", "**1234")
    data.save(ctx.engine)
    snapshot(ctx, user)

    body = await _dashboard(api, user)
    m = body["metrics"]
    # Debt is the linked loan account's balance (not the agreement's 600 000 original amount).
    assert m["total_debt"]["value"] == 50_000_000
    # Annuity: S = 500 000, r = 1 % a month, n = 24 (to 2028-02-20):
    # 500 000 × 0.01 / (1 − 1.01^−24) = 23 536.74, due on the 20th — today.
    assert m["monthly_debt_payments"]["value"] == 2_353_674
    assert m["next_payment"]["due"] == "2026-03-20"
    assert m["next_payment"]["amount"] == "23536.74"
    # No income at all: DSTI cannot be computed, and the payment makes the user overspent.
    assert (m["dsti"]["value"], m["dsti_band"]) == (None, "unknown")
    assert m["safe_to_spend"]["value"] == -2_353_674
    assert m["overspent"] is True
    [loan] = body["debts"]
    assert loan["outstanding"]["source"] == "account_balance"
    assert loan["annual_rate"]["source"] == "agreement"
    assert loan["remaining_months"]["value"] == 24
    assert body["balances"][0]["liability"]["amount"] == "500000.00"


async def test_dashboard_before_any_data_is_a_clean_answer(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    nobody, _ = await new_user()
    body = await _dashboard(api, nobody)
    assert (body["status"], body["metrics"], body["snapshot"]) == ("no_data", None, None)
    assert body["accounts"] == [] and body["debts"] == []
    assert {b["status"] for b in body["banks"]} == {"not_connected"}

    syncing, data = await new_user()
    data.connection("vbank", ConnectionStatus.sync_in_progress)
    data.save(ctx.engine)
    body = await _dashboard(api, syncing)
    assert (body["status"], body["metrics"], body["refreshing"]) == ("syncing", None, True)


async def test_bank_statuses_flag_consents_expiring_within_a_week(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    user, data = await new_user()
    data.connection("vbank", consent_days_left=3)
    data.connection("abank", ConnectionStatus.reconsent_required, consent_days_left=None)
    data.connection("sbank", consent_days_left=200)
    data.save(ctx.engine)

    body = await _dashboard(api, user)
    banks = {b["bank_code"]: b for b in body["banks"]}
    assert banks["vbank"]["consent_expiring_soon"] is True
    assert banks["sbank"]["consent_expiring_soon"] is False
    assert banks["vbank"]["last_sync_at"] is not None
    reasons = {(a["bank_code"], a["reason"]) for a in body["attention"]}
    assert reasons == {("vbank", "consent_expiring_soon"), ("abank", "reconsent_required")}


async def test_another_users_data_is_never_visible(
    api: httpx.AsyncClient, ctx: ServiceContext, new_user: NewUser
) -> None:
    owner, data = await new_user()
    data.account(
        "acc-L", "Loan", 500_000, bank="abank", kind=AccountKind.liability, number_masked="**9"
    )
    data.loan_agreement("agr-secret", "abank", 600_000, "12", "2028-02-20", "**9")
    data.save(ctx.engine)
    snapshot(ctx, owner)
    stranger, _ = await new_user()

    for path in ("/api/dashboard", "/api/debts", "/api/products", "/api/transactions/recurring"):
        response = await api.get(path, headers=stranger.headers)
        assert response.status_code == 200, response.text
        assert "agr-secret" not in response.text and "acc-L" not in response.text
    assert (await _dashboard(api, stranger))["status"] == "no_data"
    unauthenticated = await api.get("/api/dashboard")
    assert unauthenticated.status_code == 401


async def test_a_rebuild_read_in_small_pages_gives_the_same_snapshot(
    ctx: ServiceContext, new_user: NewUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rebuild reads the history a keyset page at a time: pages that cut between
    transactions of one day (and of one instant) lose or repeat none of them."""
    user, data = await new_user()
    steady_earner(data)
    data.connection("vbank")
    data.save(ctx.engine)
    with Session(ctx.engine) as session:
        whole = load_user_rows(session, user.user_id)
    assert len(whole.transactions) > 3 * 3
    whole_data = snapshot_data(whole, AnalyticsSettings(), AS_OF)
    monkeypatch.setattr(snapshots, "TRANSACTIONS_PAGE", 3)
    with Session(ctx.engine) as session:
        paged = load_user_rows(session, user.user_id)
    assert sorted(tx.key for tx in paged.transactions) == sorted(
        tx.key for tx in whole.transactions
    )
    assert snapshot_data(paged, AnalyticsSettings(), AS_OF) == whole_data
