"""A year of synthetic bank data for one Connect user at three banks (for bench/dashboard.py).

Deterministic (seeded): per bank a checking, a savings and a card account and a loan with its
agreement; salary, rent, utilities, loan payments, groceries, cafés, transport and transfers
between the user's own accounts — a few hundred rows per bank per year, like the sandbox.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core.security import hash_password
from models.banking import (
    AccountKind,
    BankAccount,
    BankTransaction,
    ProductAgreement,
    TransactionStatus,
)
from models.connect import BankConnection, ConnectionStatus, Consent, ConsentKind, ConsentStatus
from models.users import Role, User

BANKS = ("vbank", "abank", "sbank")
SPENDING = (
    ("Продукты", "5411", "Пятёрочка", 800, 4_500),
    ("Кафе", "5814", "Кофемания", 300, 2_500),
    ("Такси", "4121", "Яндекс Go", 250, 1_200),
    ("Аптека", "5912", "Ригла", 200, 1_800),
    ("Кино", "7832", "Синема Парк", 400, 1_500),
)


def create_user(engine: Engine, email: str, password: str) -> uuid.UUID:
    with Session(engine) as session:
        user = User(email=email, password_hash=hash_password(password), role=Role.connect_user)
        session.add(user)
        session.commit()
        return user.id


def _account(
    user_id: uuid.UUID, bank: str, ext: str, sub_type: str, kind: AccountKind, balance: int
) -> BankAccount:
    return BankAccount(
        user_id=user_id,
        bank_code=bank,
        external_id=ext,
        sub_type=sub_type,
        kind=kind,
        currency="RUB",
        number_masked=f"**{abs(hash((bank, ext))) % 10_000:04d}",
        available_minor=balance,
        booked_minor=balance,
        balance_at=datetime.now(UTC),
    )


class BankYear:
    """Rows for one bank: accounts, agreement, a year of transactions."""

    def __init__(self, user_id: uuid.UUID, bank: str, rng: random.Random, today: date) -> None:
        self.user_id, self.bank, self.rng, self.today = user_id, bank, rng, today
        self.checking = _account(
            user_id,
            bank,
            "acc-chk",
            "Checking",
            AccountKind.liquid,
            rng.randint(20_000, 150_000) * 100,
        )
        self.savings = _account(
            user_id,
            bank,
            "acc-sav",
            "Savings",
            AccountKind.liquid,
            rng.randint(50_000, 400_000) * 100,
        )
        self.card = _account(
            user_id, bank, "acc-card", "Card", AccountKind.liquid, rng.randint(1_000, 30_000) * 100
        )
        self.loan = _account(
            user_id,
            bank,
            "acc-loan",
            "Loan",
            AccountKind.liability,
            rng.randint(100_000, 900_000) * 100,
        )
        self.txs: list[BankTransaction] = []

    def tx(self, acc: BankAccount, day: date, rub: int, text: str, **kw: Any) -> None:
        at = datetime(day.year, day.month, day.day, self.rng.randint(8, 21), tzinfo=UTC)
        self.txs.append(
            BankTransaction(
                user_id=self.user_id,
                account_id=acc.id,
                bank_code=self.bank,
                external_id=f"tx-{uuid.uuid4().hex[:16]}",
                booked_at=at,
                amount_minor=rub * 100,
                currency="RUB",
                status=TransactionStatus.booked,
                description=text,
                **kw,
            )
        )

    def month(self, first: date) -> None:
        rng, chk = self.rng, self.checking
        self.tx(chk, first.replace(day=5), rng.randint(60_000, 120_000), "Зарплата")
        self.tx(chk, first.replace(day=10), -35_000, "Аренда квартиры", counterparty="Арендодатель")
        self.tx(
            chk, first.replace(day=15), -rng.randint(4_000, 6_000), "ЖКХ", counterparty="МосЭнерго"
        )
        self.tx(chk, first.replace(day=20), -15_000, "Погашение кредита", counterparty=self.bank)
        self.tx(chk, first.replace(day=7), -10_000, "Перевод на накопительный счёт")
        self.tx(self.savings, first.replace(day=7), 10_000, "Перевод на накопительный счёт")
        for _ in range(rng.randint(25, 35)):
            text, mcc, merchant, low, high = rng.choice(SPENDING)
            day = first + timedelta(days=rng.randint(0, 27))
            acc = rng.choice((chk, self.card))
            self.tx(acc, day, -rng.randint(low, high), text, mcc=mcc, merchant_name=merchant)

    def rows(self, years: int = 1) -> list[object]:
        start = date(self.today.year - years, self.today.month, 1)
        month = start
        while month <= self.today.replace(day=1):
            self.month(month)
            month = (month + timedelta(days=32)).replace(day=1)
        self.txs = [t for t in self.txs if t.booked_at.date() <= self.today]
        agreement = ProductAgreement(
            user_id=self.user_id,
            bank_code=self.bank,
            agreement_id=f"agr-{self.bank}-loan",
            product_name="Потребительский кредит",
            product_type="loan",
            amount_minor=1_000_000 * 100,
            end_date=datetime(self.today.year + 3, self.today.month, 20, tzinfo=UTC),
            account_number_masked=self.loan.number_masked,
            interest_rate=Decimal("14.5"),
        )
        return [self.checking, self.savings, self.card, self.loan, agreement]


def connection_rows(user_id: uuid.UUID, bank: str) -> list[object]:
    now = datetime.now(UTC)
    return [
        BankConnection(
            user_id=user_id, bank_code=bank, status=ConnectionStatus.ready, last_sync_at=now
        ),
        Consent(
            user_id=user_id,
            bank_code=bank,
            kind=ConsentKind.accounts,
            request_id=f"req-{uuid.uuid4().hex[:12]}",
            consent_id=f"consent-{uuid.uuid4().hex[:12]}",
            status=ConsentStatus.authorized,
            expires_at=now + timedelta(days=300),
        ),
    ]


def insert_year_of_data(engine: Engine, user_id: uuid.UUID, seed: int = 42, years: int = 1) -> int:
    """Insert three banks' history (a year, or `years`) for the user; returns the number of
    transactions."""
    rng, today = random.Random(seed), datetime.now(UTC).date()
    count = 0
    with Session(engine) as session:
        for bank in BANKS:
            year = BankYear(user_id, bank, rng, today)
            parents = connection_rows(user_id, bank) + year.rows(years)
            session.add_all(parents)
            session.flush()
            session.add_all(year.txs)
            count += len(year.txs)
        session.commit()
    return count
