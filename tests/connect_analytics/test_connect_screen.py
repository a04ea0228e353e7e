"""The Connect app's words: what the person reads instead of ids and abbreviations."""

from __future__ import annotations

import uuid
from typing import Any

from api.pages.connect_screen import (
    Step,
    account_name,
    category_name,
    debt_share_sentence,
    health_note,
    money_text,
    safe_to_spend_steps,
)
from models.banking import AccountKind, AccountPublic
from models.dashboard import HeadlinePublic
from models.insights import FigurePublic


def _account(
    external_id: str, sub_type: str, nickname: str | None, kind: AccountKind
) -> AccountPublic:
    return AccountPublic(
        id=uuid.uuid4(),
        bank_code="sbank",
        external_id=external_id,
        sub_type=sub_type,
        kind=kind,
        currency="RUB",
        nickname=nickname,
        number_masked="****1148",
        status="Enabled",
        available="1000.00",
        booked="1000.00",
        balance_at=None,
    )


def _figure(value: Any, inputs: dict[str, Any] | None = None) -> FigurePublic:
    return FigurePublic(
        value=value, unit="minor:RUB", inputs=inputs or {}, period=None, explanation="", source=""
    )


def _headline(**changes: Any) -> HeadlinePublic:
    return HeadlinePublic.model_construct(currency="RUB", **changes)


def test_categories_read_as_words() -> None:
    assert category_name("rent_utilities") == "Rent and utilities"
    assert category_name(None) == "Other"
    # A category an admin added later still reads without underscores.
    assert category_name("pet_care") == "Pet care"


def test_an_account_is_named_by_its_bank_and_its_own_name_never_by_its_id() -> None:
    checking = _account("acc-3013", "Checking", "Текущий счёт", AccountKind.liquid)
    assert account_name(checking) == "SBank · Текущий счёт ****1148"
    unnamed = _account("acc-3014", "Savings", None, AccountKind.liquid)
    assert account_name(unnamed) == "SBank · Savings account ****1148"
    assert "acc-" not in account_name(unnamed)


def test_thousands_are_grouped_and_the_currency_named() -> None:
    assert money_text(1_234_567_89, "RUB") == "1 234 567.89 RUB"
    assert money_text(-50_00, "RUB") == "-50.00 RUB"
    assert money_text(None, "RUB") == "—"


def test_the_debt_share_is_a_sentence_with_its_band() -> None:
    caution = _headline(dsti=_figure("37.0"), dsti_band="caution")
    assert debt_share_sentence(caution) == (
        "Debt payments take 37 % of your income: worth watching (30–50 %)."
    )
    unknown = _headline(dsti=_figure(None), dsti_band="unknown")
    assert "no regular income" in debt_share_sentence(unknown)
    # The health part on debt says the same, not "DSTI band."
    assert health_note("manageable_debt", "DSTI band.", "X") == "X"
    assert health_note("spend_vs_income", "Income ÷ spending.", "X").startswith("Your income")


def test_how_safe_to_spend_was_reached_names_what_it_counts_and_leaves_out() -> None:
    checking = _account("acc-1", "Checking", "Текущий счёт", AccountKind.liquid)
    savings = _account("acc-2", "Savings", "Накопительный счёт", AccountKind.liquid)
    deposit = _account("acc-3", "Deposit", "Вклад", AccountKind.deposit)
    loan = _account("acc-4", "Loan", "Кредит", AccountKind.liability)
    inputs = {
        "spendable_available_minor": 100_000_00,
        "bills_and_loans_due_minor": 30_000_00,
        "savings_goal_minor": 5_000_00,
        "safety_buffer_minor": 4_000_00,
        "spendable_accounts": {"sbank/acc-1": 100_000_00},
    }
    headline = _headline(
        safe_to_spend=_figure(61_000_00, inputs), next_income_date=_figure("2026-04-05")
    )
    steps, left_out = safe_to_spend_steps(headline, [checking, savings, deposit, loan])
    assert steps == [
        Step("SBank · Текущий счёт ****1148", 100_000_00),
        Step("Bills and loan payments due before 5 April 2026", -30_000_00),
        Step("Your savings goal", -5_000_00),
        Step("Safety buffer (a tenth of a usual month's spending)", -4_000_00),
    ]
    assert sum(step.amount_minor for step in steps) == 61_000_00
    assert left_out == ["SBank · Накопительный счёт ****1148", "SBank · Вклад ****1148"]
