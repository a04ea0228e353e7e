"""The assembled snapshot: per-currency sections, JSON safety and whole-user scenarios."""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from analytics.categories import DEFAULT_RULES, CategoryRule
from analytics.inputs import AnalyticsSettings, LoanInput, TransactionInput
from analytics.snapshot import Snapshot, compute_snapshot
from tests.analytics.analytics_builders import account, at, tx

AS_OF = at("2025-07-17", 15)
PACKAGE = Path(__file__).resolve().parents[2] / "analytics"


def salaried_history() -> list[TransactionInput]:
    """Jan–Jun 2025: salary 100k on the 25th, rent 30k on the 5th, loan 40k on the 20th,
    groceries 5k on the 1st, 8th, 15th and 22nd. July up to the 17th: rent, three grocery
    trips and a 10k transfer from checking (VBank) to savings (SBank)."""
    txs = []
    for m in range(1, 7):
        txs.append(tx(f"2025-{m:02d}-25", 10_000_000, "💼 Зарплата"))
        txs.append(tx(f"2025-{m:02d}-20", -4_000_000, "Погашение кредита"))
    for m in range(1, 8):
        txs.append(tx(f"2025-{m:02d}-05", -3_000_000, "🏠 ЖКХ/Аренда", counterparty="Арендодатель"))
        txs += [tx(f"2025-{m:02d}-{d:02d}", -500_000, "🛒 Продукты") for d in (1, 8, 15, 22)]
    txs = [t for t in txs if t.booked_at <= AS_OF]
    txs.append(tx("2025-07-01", -1_000_000, "Перевод", account="acc-1"))
    txs.append(tx("2025-07-01", 1_000_000, "Перевод", account="sav-1", bank="sbank"))
    return txs


def car_loan() -> LoanInput:
    return LoanInput(
        agreement_id="agr-1",
        bank_code="abank",
        product_name="Автокредит",
        outstanding_minor=50_000_000,
        annual_rate=Decimal(12),
        end_date=date(2026, 7, 20),
        rate_source="agreement",
        outstanding_source="account_balance",
        account_id="loan-1",
    )


# The salaried user said their savings count as money to spend (the default leaves them
# out: see test_savings_and_deposits_are_not_money_to_spend_by_default).
SPENDS_SAVINGS = AnalyticsSettings(spend_savings=True)


def salaried_snapshot(settings: AnalyticsSettings | None = None) -> Snapshot:
    accounts = [
        account("acc-1", "Checking", available=5_000_000),
        account("sav-1", "Savings", available=20_000_000, bank="sbank"),
        account("loan-1", "Loan", available=50_000_000, bank="abank"),
        account("usd-1", "Checking", available=100_000, currency="USD"),
    ]
    usd = [tx("2025-07-01", 50_000, "Freelance", account="usd-1", currency="USD")]
    return compute_snapshot(
        accounts,
        salaried_history() + usd,
        [car_loan()],
        [],
        DEFAULT_RULES,
        settings or SPENDS_SAVINGS,
        AS_OF,
    )


# The car loan: 500 000 · 0.01 / (1 − 1.01^−13) = 41 207.4098… → 41 207.41 RUB a month
# (13 payments: Jul 20 2025 … Jul 20 2026).
CAR_LOAN_PAYMENT = 4_120_741


def test_salaried_user_headline_numbers() -> None:
    rub = salaried_snapshot().primary
    assert rub.next_income_date.value == date(2025, 7, 25)
    # 250 000 liquid − 41 207.41 loan (Jul 20) − 9 000.00 buffer (10% of Apr–Jun's 90 000)
    assert rub.safe_to_spend.safe_to_spend.value == 25_000_000 - CAR_LOAN_PAYMENT - 900_000
    assert rub.safe_to_spend.safe_to_spend.value == 19_979_259
    # 199 792.59 / 8 days = 24 974.07375 → 24 974.07
    assert rub.safe_to_spend.per_day.value == 2_497_407
    assert not rub.safe_to_spend.overspent
    # rent is next due Aug 5, after payday; the loan series in the transactions is not
    # counted a second time next to the agreement
    assert [p.name for p in rub.safe_to_spend.payments_due] == ["Автокредит"]
    assert {(b.payee, b.next_due) for b in rub.recurring_bills} >= {
        ("арендодатель", date(2025, 8, 5))
    }


def test_salaried_user_debt() -> None:
    debt = salaried_snapshot().primary.debt
    # the loan account and its agreement are one debt, not two
    assert debt.total_debt.value == 50_000_000
    assert debt.next_payment.value == date(2025, 7, 20)
    assert debt.next_payment.inputs["amount_minor"] == CAR_LOAN_PAYMENT
    # 41 207.41 / 100 000.00 = 41.2% → caution
    assert (debt.dsti.value, debt.dsti_band) == (Decimal("41.2"), "caution")


def test_own_transfer_is_neither_income_nor_spending() -> None:
    snap = salaried_snapshot()
    assert snap.own_transfers == 2
    assert "2025-07" not in snap.primary.monthly_income
    assert snap.primary.summaries["month"].spending_minor == 3_000_000 + 3 * 500_000


def test_currencies_are_kept_separate() -> None:
    snap = salaried_snapshot()
    assert list(snap.currencies) == ["RUB", "USD"]
    usd = snap.currencies["USD"]
    assert usd.liquid_available.value == 100_000
    assert usd.monthly_income == {"2025-07": 50_000}
    assert usd.debt.total_debt.value == 0
    # RUB liquid is checking + savings only: no dollars added in
    assert snap.primary.liquid_available.value == 25_000_000
    assert snap.primary.monthly_income["2025-06"] == 10_000_000


def test_health_score_of_the_salaried_user() -> None:
    health = salaried_snapshot().health
    scores = {c.name: c.score for c in health.components}
    # income/spending = 600 000 / 540 000 = 1.11 → 60 + 40 · 0.111/0.2 = 82
    # liquid 250 000 / essentials 90 000 = 2.78 months → 46
    # savings +10 000 in 3 months on 100 000 income = 3.3% → 40 + 60 · 0.333 = 60
    # DSTI 41.2% caution → 60; nothing overdue → 100
    assert scores == {
        "spend_vs_income": 82,
        "bills_on_time": 100,
        "liquid_savings": 46,
        "savings_trend": 60,
        "manageable_debt": 60,
    }
    # (82 + 100 + 46 + 60 + 60) / 5 = 69.6 → 70
    assert (health.score, health.tier, health.confidence) == (70, "Coping", "high")


def test_forecast_lowest_point_is_the_day_before_payday() -> None:
    forecast = salaried_snapshot().primary.forecast
    # discretionary: 12 grocery trips × 5 000 in the last 90 days / 90 = 666.67 a day
    assert forecast.days[0].discretionary_minor == 66_667
    # Jul 24: 250 000 − 8 × 666.67 − 41 207.41 = 203 459.23
    assert forecast.lowest_date == date(2025, 7, 24)
    assert forecast.lowest_balance.value == 20_345_923
    assert not forecast.goes_negative


def test_overspent_user_is_told_so() -> None:
    # a 250 000 savings goal leaves −41 207.41 − 9 000.00 = −50 207.41
    snap = salaried_snapshot(AnalyticsSettings(savings_goal_minor=25_000_000, spend_savings=True))
    sts = snap.primary.safe_to_spend
    assert sts.safe_to_spend.value == -5_020_741
    assert sts.overspent
    assert sts.message.startswith("Overspent")
    assert "50 207.41 RUB" in sts.message
    # the goal is in roubles: dollars are untouched
    assert not snap.currencies["USD"].safe_to_spend.overspent


def test_savings_and_deposits_are_not_money_to_spend_by_default() -> None:
    accounts = [
        account("acc-1", "Checking", available=5_000_000),
        account("sav-1", "Savings", available=20_000_000, bank="sbank"),
        account("dep-1", "Deposit", available=30_000_000, bank="sbank"),
        account("loan-1", "Loan", available=50_000_000, bank="abank"),
    ]
    rub = compute_snapshot(
        accounts, salaried_history(), [car_loan()], [], DEFAULT_RULES, AnalyticsSettings(), AS_OF
    ).primary
    sts = rub.safe_to_spend.safe_to_spend
    # 50 000 checking − 41 207.41 loan − 9 000.00 buffer: the savings and the deposit wait
    assert sts.value == 5_000_000 - CAR_LOAN_PAYMENT - 900_000
    assert sts.inputs["spendable_accounts"] == {"vbank/acc-1": 5_000_000}
    assert rub.safe_to_spend.overspent
    # the forecast starts from the same spendable money
    assert rub.forecast.days[0].balance_minor < 5_000_000
    # savings still count as a cushion in the health score's liquid savings
    assert rub.liquid_available.value == 25_000_000


def test_user_without_loans() -> None:
    txs = [t for t in salaried_history() if t.description != "Погашение кредита"]
    snap = compute_snapshot(
        [account("acc-1", available=5_000_000)],
        txs,
        [],
        [],
        DEFAULT_RULES,
        AnalyticsSettings(),
        AS_OF,
    )
    debt = snap.primary.debt
    assert (debt.total_debt.value, debt.dsti.value, debt.dsti_band) == (0, Decimal("0.0"), "fine")
    assert debt.next_payment.value is None
    assert "0%" in debt.dsti.explanation
    assert {c.name: c.score for c in snap.health.components}["manageable_debt"] == 100


def test_user_with_only_a_loan() -> None:
    snap = compute_snapshot(
        [account("loan-1", "Loan", available=50_000_000, bank="abank")],
        [],
        [car_loan()],
        [],
        DEFAULT_RULES,
        AnalyticsSettings(),
        AS_OF,
    )
    rub = snap.primary
    assert rub.debt.total_debt.value == 50_000_000
    assert (rub.debt.dsti.value, rub.debt.dsti_band) == (None, "unknown")
    assert "no regular income" in rub.debt.dsti.explanation
    # no salary rhythm: income assumed in 30 days, so the Jul 20 payment is due before it
    assert rub.next_income_date.source == "estimate"
    assert rub.safe_to_spend.safe_to_spend.value == -CAR_LOAN_PAYMENT
    assert rub.safe_to_spend.overspent
    # only "bills on time" can be scored: the score stands, the confidence says how little
    assert (snap.health.available, snap.health.confidence) == (1, "low")


def test_repayment_into_a_loan_account_is_spending_not_an_own_transfer() -> None:
    txs = [
        tx("2025-07-10", -4_000_000, "Погашение кредита", account="acc-1"),
        tx("2025-07-10", 4_000_000, "Погашение", account="loan-1", bank="abank"),
    ]
    accounts = [
        account("acc-1", available=1_000_000),
        account("loan-1", "Loan", available=50_000_000, bank="abank"),
    ]
    snap = compute_snapshot(accounts, txs, [], [], DEFAULT_RULES, AnalyticsSettings(), AS_OF)
    month = snap.primary.summaries["month"]
    assert snap.own_transfers == 0
    assert month.spending_by_category == {"loan_payment": 4_000_000}
    assert month.income_minor == 0  # the loan account's credit is not income


def test_rule_change_recategorises_the_snapshot() -> None:
    rules = [r for r in DEFAULT_RULES if not r.id.startswith("groceries")]
    snap = salaried_snapshot_with_rules(rules)
    june = snap.primary.spending_by_category_month["2025-06"]
    assert "groceries" not in june
    assert june["other"] == 2_000_000


def salaried_snapshot_with_rules(rules: Sequence[CategoryRule]) -> Snapshot:
    return compute_snapshot(
        [account("acc-1", available=5_000_000)],
        salaried_history(),
        [],
        [],
        rules,
        AnalyticsSettings(),
        AS_OF,
    )


def _walk(value: object) -> None:
    assert not isinstance(value, float)
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            _walk(item)
    elif isinstance(value, list):
        for item in value:
            _walk(item)
    else:
        assert value is None or isinstance(value, str | int | bool)


def test_snapshot_is_json_safe() -> None:
    data = salaried_snapshot().to_dict()
    _walk(data)
    restored = json.loads(json.dumps(data, ensure_ascii=False))
    assert restored == data
    rub = restored["currencies"]["RUB"]
    assert rub["debt"]["dsti"]["value"] == "41.2"
    assert rub["safe_to_spend"]["safe_to_spend"]["value"] == 19_979_259
    assert rub["next_income_date"]["value"] == "2025-07-25"
    assert restored["as_of"] == "2025-07-17T15:00:00+03:00"


def test_as_of_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_snapshot([], [], [], [], DEFAULT_RULES, AnalyticsSettings(), datetime(2025, 7, 17))


def test_package_imports_only_the_standard_library() -> None:
    # Temporal workflow code imports analytics: nothing outside the stdlib may sneak in.
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top == "analytics" or top in sys.stdlib_module_names, (path.name, name)
