"""Rule-driven categorisation, re-categorisation and own-transfer detection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from analytics.categories import (
    DEFAULT_RULES,
    ENTERTAINMENT,
    GROCERIES,
    LOAN_PAYMENT,
    OTHER,
    OTHER_INCOME,
    OWN_TRANSFER,
    RENT_UTILITIES,
    RESTAURANTS,
    SALARY,
    TRANSFERS,
    CategoryRule,
    categorise,
    categorise_all,
    detect_own_transfers,
)
from tests.analytics.analytics_builders import tx


@pytest.mark.parametrize(
    ("amount", "description", "mcc", "expected"),
    [
        (15_000_000, "💼 Зарплата", None, SALARY),
        (-350_000, "🛒 Продукты", None, GROCERIES),
        (-3_000_000, "🏠 ЖКХ/Аренда", None, RENT_UTILITIES),
        (-120_000, "Оплата картой", "5812", RESTAURANTS),
        (-2_500_000, "Погашение кредита", None, LOAN_PAYMENT),
        (-500_000, "Перевод по СБП", None, TRANSFERS),
        (-99_900, "Покупка", None, OTHER),
        (700_000, "Возврат", None, OTHER_INCOME),
    ],
)
def test_default_rules_on_sandbox_texts(
    amount: int, description: str, mcc: str | None, expected: str
) -> None:
    assert categorise(tx("2025-06-01", amount, description, mcc=mcc), DEFAULT_RULES) == expected


def test_direction_matters_salary_text_on_a_debit_is_not_income() -> None:
    # Paying a nanny's salary is spending, not a salary credit.
    assert categorise(tx("2025-06-01", -2_000_000, "Зарплата няне"), DEFAULT_RULES) != SALARY


def test_mcc_beats_generic_text() -> None:
    # MCC 5411 (grocery store) wins over the word "кафе" in the text.
    grocery = tx("2025-06-01", -50_000, "Кафе-магазин", mcc="5411")
    assert categorise(grocery, DEFAULT_RULES) == GROCERIES


def test_recategorising_after_a_rule_change() -> None:
    txs = [
        tx("2025-06-01", -29_900, "Яндекс Плюс", merchant="Yandex Plus"),
        tx("2025-06-02", -40_000, "🛒 Продукты"),
    ]
    before = categorise_all(txs, DEFAULT_RULES)
    assert [t.category for t in before] == [OTHER, GROCERIES]

    admin_rule = CategoryRule("plus", 5, ENTERTAINMENT, text_pattern=r"яндекс\s+плюс")
    after = categorise_all(before, (*DEFAULT_RULES, admin_rule))
    assert [t.category for t in after] == [ENTERTAINMENT, GROCERIES]

    # Removing the rule again puts the row back.
    assert [t.category for t in categorise_all(after, DEFAULT_RULES)] == [OTHER, GROCERIES]


def test_rule_criteria_must_all_hold() -> None:
    rule = CategoryRule("rent-landlord", 1, RENT_UTILITIES, mcc_codes=("6513",), direction="debit")
    assert rule.matches(tx("2025-06-01", -100, mcc="6513"))
    assert not rule.matches(tx("2025-06-01", 100, mcc="6513"))  # a credit
    assert not rule.matches(tx("2025-06-01", -100, mcc="5411"))


def test_a_bad_regex_fails_when_the_rule_is_built() -> None:
    with pytest.raises(re.error):
        CategoryRule("broken", 1, OTHER, text_pattern="(unclosed")


def test_own_transfer_across_banks_within_window() -> None:
    out = tx("2025-06-01", -1_000_000, "Перевод", account="acc-1", bank="vbank", hour=10)
    into = tx("2025-06-02", 1_000_000, "Перевод", account="sav-9", bank="sbank", hour=9)
    assert detect_own_transfers([out, into]) == {out.key, into.key}


def test_own_transfer_outside_window_or_same_account_is_not_paired() -> None:
    out = tx("2025-06-01", -1_000_000, account="acc-1")
    late = tx("2025-06-04", 1_000_000, account="acc-2")
    same = tx("2025-06-01", 1_000_000, account="acc-1")
    assert detect_own_transfers([out, late, same]) == set()
    assert detect_own_transfers([out, late], window=timedelta(days=4)) == {out.key, late.key}


def test_each_transaction_is_used_once_and_nearest_wins() -> None:
    first = tx("2025-06-01", -500_000, account="acc-1", hour=9)
    second = tx("2025-06-01", -500_000, account="acc-1", hour=18)
    credit = tx("2025-06-01", 500_000, account="acc-2", hour=17)
    other_currency = tx("2025-06-01", 500_000, account="usd-1", currency="USD", hour=9)
    paired = detect_own_transfers([first, second, credit, other_currency])
    # one credit can settle only one of the two debits: the one an hour away
    assert paired == {second.key, credit.key}


def test_own_transfers_are_flagged_before_rules_apply() -> None:
    out = tx("2025-06-01", -1_500_000, "💼 Зарплата", account="acc-1")
    into = tx("2025-06-01", 1_500_000, "💼 Зарплата", account="acc-2")
    assert {t.category for t in categorise_all([out, into], DEFAULT_RULES)} == {OWN_TRANSFER}
