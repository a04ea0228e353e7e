"""A year of money movements per account: salary, bills, groceries, transfers, loan payments.

See `bank_emulator.data` for the determinism rules and the client profiles.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from bank_emulator import catalog
from bank_emulator.config import BANK_CODES, BANK_NAMES
from bank_emulator.data import Account, ClientData, ClientGenerator, money, on_day

OWN_TRANSFER = "🔁 Перевод между своими счетами"


def generate_client(
    bank: str, client_id: str, seed: int, anchor: date, multiplier: int = 1
) -> ClientData:
    """All accounts, cards, agreements and transactions of one client at one bank."""
    gen = ClientGenerator(bank, client_id, seed, anchor, multiplier)
    profile = catalog.PROFILES.get(gen.k, ("Checking", "Savings"))
    years_back = {"Checking": 5, "Savings": 3, "CreditCard": 2}
    accounts: dict[str, Account] = {}
    for index, sub_type in enumerate(profile, start=1):
        days = gen.rng.randint(400, 365 * years_back.get(sub_type, 2))
        accounts[sub_type] = gen.new_account(sub_type, index, anchor - timedelta(days=days))
    checking = accounts.get("Checking")
    if checking is not None:
        _checking_flows(gen, checking)
    if "Savings" in accounts:
        _savings_flows(gen, accounts["Savings"], checking)
    if "Deposit" in accounts:
        _deposit_flows(gen, accounts["Deposit"], checking)
    if "Loan" in accounts:
        _loan_flows(gen, accounts["Loan"], checking)
    if "CreditCard" in accounts:
        _credit_card_flows(gen, accounts["CreditCard"], checking)
    if checking is not None:
        _fund_from_past(gen, checking)
    return gen.data


def _checking_flows(gen: ClientGenerator, checking: Account) -> None:
    card = gen.new_card(checking, "debit", "Дебетовая карта «Кэшбэк»")
    salary_base = gen.shared_rng("salary").randrange(90_000, 220_000, 1000)
    employer = gen.shared_rng("employer").choice(catalog.EMPLOYERS)
    landlord = gen.rng.choice(catalog.LANDLORDS)
    rent = Decimal(gen.rng.randrange(25_000, 45_000, 500))
    primary = gen.bank == gen.primary_bank
    for month in gen.months:
        if primary:
            salary = money(salary_base * gen.shared_rng("salary", month).uniform(0.97, 1.05))
            gen.add(
                checking, on_day(month, 5, 10), salary, True, "💼 Зарплата", counterparty=employer
            )
            gen.add(
                checking, on_day(month, 10, 9), rent, False, "🏠 ЖКХ/Аренда", counterparty=landlord
            )
            _utilities(gen, checking, month)
        _interbank(gen, checking, month, salary_base)
        _card_spending(gen, checking, month, card, primary)
    # A fresh purchase on the anchor day, so every checking account has a pending entry.
    today = gen.now.date().replace(day=1)
    grocer = gen.rng.choice(catalog.GROCERIES)
    gen.add(
        checking,
        on_day(today, gen.now.day, 10, 15),
        money(gen.rng.uniform(300, 2500)),
        False,
        "🛒 Продукты",
        grocer,
        card,
    )


def _utilities(gen: ClientGenerator, checking: Account, month: date) -> None:
    power, mobile = catalog.UTILITIES
    amount = money(gen.rng.uniform(3000, 7000))
    gen.add(checking, on_day(month, 15, 12), amount, False, "💡 Коммунальные услуги", power)
    amount = money(gen.rng.choice((550, 650, 790)))
    gen.add(checking, on_day(month, 18, 8), amount, False, "📱 Мобильная связь", mobile)


def _interbank(gen: ClientGenerator, checking: Account, month: date, salary: int) -> None:
    """Salary bank → other banks on the 6th; both banks derive the same amount."""
    when = on_day(month, 6, 11)
    if gen.k == catalog.LOAN_ONLY_CLIENT:
        return
    for other in BANK_CODES:
        if other == gen.primary_bank:
            continue
        amount = money(salary * gen.shared_rng("interbank", month, other).uniform(0.12, 0.2))
        if gen.bank == gen.primary_bank:
            gen.add(
                checking,
                when,
                amount,
                False,
                OWN_TRANSFER,
                counterparty=f"{gen.data.holder} ({BANK_NAMES[other]})",
            )
        elif gen.bank == other:
            gen.add(
                checking,
                when,
                amount,
                True,
                OWN_TRANSFER,
                counterparty=f"{gen.data.holder} ({BANK_NAMES[gen.primary_bank]})",
            )


def _card_spending(
    gen: ClientGenerator, account: Account, month: date, card: str, primary: bool
) -> None:
    scale = gen.multiplier
    plan = [
        ("🛒 Продукты", catalog.GROCERIES, (6, 12) if primary else (2, 5), (300, 4500)),
        ("🍔 Кафе и рестораны", catalog.CAFES, (2, 5), (350, 2500)),
        ("🚕 Транспорт", catalog.TRANSPORT, (3, 8), (60, 900)),
    ]
    for info, merchants, count_range, amount_range in plan:
        for _ in range(gen.rng.randint(*count_range) * scale):
            when = on_day(
                month, gen.rng.randint(1, 28), gen.rng.randint(8, 22), gen.rng.randint(0, 59)
            )
            amount = money(gen.rng.uniform(*amount_range))
            gen.add(account, when, amount, False, info, gen.rng.choice(merchants), card)


def _savings_flows(gen: ClientGenerator, savings: Account, checking: Account | None) -> None:
    balance = Decimal(gen.rng.randrange(20_000, 300_000, 1000))
    savings.opening_balance = balance
    monthly = Decimal(gen.rng.randrange(3_000, 15_000, 500))
    for month in gen.months:
        when = on_day(month, 7, 12)
        if checking is not None and when <= gen.now:
            gen.add(checking, when, monthly, False, OWN_TRANSFER, counterparty=savings.nickname)
            gen.add(savings, when, monthly, True, OWN_TRANSFER, counterparty=checking.nickname)
            balance += monthly
        interest = money(float(balance) * 0.08 / 12)
        gen.add(savings, on_day(month, 28, 3), interest, True, "📈 Проценты на остаток")
        balance += interest


def _deposit_flows(gen: ClientGenerator, deposit: Account, checking: Account | None) -> None:
    product = gen.products["deposit"]
    opened = gen.now - timedelta(days=gen.rng.randint(40, 300))
    deposit.opening_date = opened.date()
    amount = Decimal(gen.rng.randrange(100_000, 1_000_000, 10_000))
    if checking is not None:
        gen.add(checking, opened, amount, False, OWN_TRANSFER, counterparty=deposit.nickname)
    gen.add(deposit, opened, amount, True, "Открытие вклада", counterparty=deposit.holder)
    gen.new_agreement(deposit, product, amount, opened, product.term_months)
    balance = amount
    for month in gen.months:
        when = on_day(month, opened.day, 4)
        if when <= opened:
            continue
        interest = money(float(balance) * float(product.interest_rate) / 1200)
        gen.add(deposit, when, interest, True, "📈 Проценты по вкладу")
        balance += interest


def _loan_flows(gen: ClientGenerator, loan: Account, checking: Account | None) -> None:
    """Annuity loan opened before the window: monthly interest accrual and payment."""
    product = gen.products["loan"]
    term = product.term_months or 36
    opened = gen.now - timedelta(days=gen.rng.randint(400, 700))
    loan.opening_date = opened.date()
    principal = Decimal(gen.rng.randrange(150_000, 1_500_000, 10_000))
    gen.new_agreement(loan, product, principal, opened, term)
    loan.opening_balance = principal
    rate = float(product.interest_rate) / 1200
    payment = money(float(principal) * rate / (1 - (1 + rate) ** -term))
    debt = principal
    month = opened.date().replace(day=1)
    while (when := on_day(month, opened.day, 9)) <= gen.now and debt > 0:
        if when > opened:
            interest = money(float(debt) * rate)
            gen.add(loan, when - timedelta(hours=1), interest, False, "Начисление процентов")
            pay = min(payment, debt + interest)
            _pay_loan(gen, loan, checking, when, pay)
            debt += interest - pay
        month = (month + timedelta(days=32)).replace(day=1)


def _pay_loan(
    gen: ClientGenerator, loan: Account, checking: Account | None, when: datetime, pay: Decimal
) -> None:
    bank_name = BANK_NAMES.get(gen.bank, gen.bank)
    if checking is not None:
        gen.add(checking, when, pay, False, "🏦 Платёж по кредиту", counterparty=bank_name)
        source = checking.nickname
    else:
        source = "Перевод из другого банка"
    gen.add(loan, when, pay, True, "Погашение кредита", counterparty=source)


def _credit_card_flows(gen: ClientGenerator, cc: Account, checking: Account | None) -> None:
    product = gen.products["card"]
    cc.credit_limit = Decimal(gen.rng.randrange(50_000, 300_000, 10_000))
    card = gen.new_card(cc, "credit", product.name)
    opened = datetime.combine(cc.opening_date, datetime.min.time(), gen.now.tzinfo)
    gen.new_agreement(cc, product, cc.credit_limit, opened, None)
    for month in gen.months:
        spent = Decimal(0)
        for _ in range(gen.rng.randint(2, 6) * gen.multiplier):
            when = on_day(month, gen.rng.randint(1, 28), gen.rng.randint(9, 23))
            amount = money(gen.rng.uniform(500, 6000))
            gen.add(cc, when, amount, False, "🛍️ Покупки", gen.rng.choice(catalog.SHOPPING), card)
            spent += amount
        # Repaid in full inside the grace period, from checking when there is one.
        repay_at = on_day((month + timedelta(days=32)).replace(day=1), 22, 10)
        if checking is not None:
            gen.add(
                checking,
                repay_at,
                spent,
                False,
                "💳 Погашение кредитной карты",
                counterparty=cc.nickname,
            )
        gen.add(cc, repay_at, spent, True, "Погашение задолженности", counterparty=cc.holder)


def _fund_from_past(gen: ClientGenerator, checking: Account) -> None:
    """Give checking enough money at the window start that it never goes below zero."""
    running = lowest = checking.opening_balance
    for tx in sorted(gen.data.transactions[checking.account_id], key=lambda t: t.booked_at):
        if tx.status in ("Booked", "Pending"):
            running += tx.amount if tx.credit else -tx.amount
            lowest = min(lowest, running)
    cushion = Decimal(gen.rng.randrange(15_000, 80_000, 1000))
    checking.opening_balance += max(Decimal(0), -lowest) + cushion
