"""Hand-built bank data for the analytics tests, inserted straight into the Connect tables.

Every expected number in the tests is worked out by hand from these rows; keep them tiny.
All bookings are at noon UTC and the snapshot's `as_of` is AS_OF unless a test says so.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.banking import (
    AccountKind,
    BankAccount,
    BankTransaction,
    ProductAgreement,
    TransactionStatus,
)
from models.connect import BankConnection, ConnectionStatus, Consent, ConsentKind, ConsentStatus

AS_OF = datetime(2026, 3, 20, 12, tzinfo=UTC)
RUB = 100  # minor units per rouble


def noon(day: str | date) -> datetime:
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(d.year, d.month, d.day, 12, tzinfo=UTC)


@dataclass
class BankData:
    """Rows for one user; `save` writes them in one transaction."""

    user_id: uuid.UUID
    rows: list[Any] = field(default_factory=list)

    def account(
        self,
        external_id: str,
        sub_type: str = "Checking",
        balance_rub: int = 0,
        bank: str = "vbank",
        kind: AccountKind = AccountKind.liquid,
        number_masked: str | None = None,
        currency: str = "RUB",
    ) -> BankAccount:
        row = BankAccount(
            user_id=self.user_id,
            bank_code=bank,
            external_id=external_id,
            sub_type=sub_type,
            kind=kind,
            currency=currency,
            number_masked=number_masked,
            available_minor=balance_rub * RUB,
            booked_minor=balance_rub * RUB,
            balance_at=AS_OF,
        )
        self.rows.append(row)
        return row

    def tx(
        self,
        account: BankAccount,
        day: str | date,
        amount_rub: int,
        description: str,
        **fields: Any,
    ) -> BankTransaction:
        row = BankTransaction(
            user_id=self.user_id,
            account_id=account.id,
            bank_code=account.bank_code,
            external_id=f"tx-{uuid.uuid4().hex[:12]}",
            booked_at=noon(day),
            amount_minor=amount_rub * RUB,
            currency=account.currency,
            status=fields.pop("status", TransactionStatus.booked),
            description=description,
            **fields,
        )
        self.rows.append(row)
        return row

    def monthly(
        self, account: BankAccount, days: list[str], amount_rub: int, description: str, **kw: Any
    ) -> None:
        for day in days:
            self.tx(account, day, amount_rub, description, **kw)

    def loan_agreement(
        self,
        agreement_id: str,
        bank: str,
        amount_rub: int,
        rate: str | None,
        end: str | None,
        number_masked: str | None,
    ) -> ProductAgreement:
        row = ProductAgreement(
            user_id=self.user_id,
            bank_code=bank,
            agreement_id=agreement_id,
            product_id="prod-loan",
            product_name="Потребительский кредит",
            product_type="loan",
            amount_minor=amount_rub * RUB,
            end_date=noon(end) if end else None,
            account_number_masked=number_masked,
            interest_rate=Decimal(rate) if rate else None,
        )
        self.rows.append(row)
        return row

    def connection(
        self,
        bank: str,
        status: ConnectionStatus = ConnectionStatus.ready,
        consent_days_left: int | None = 300,
    ) -> None:
        self.rows.append(
            BankConnection(user_id=self.user_id, bank_code=bank, status=status, last_sync_at=AS_OF)
        )
        if consent_days_left is not None:
            self.rows.append(
                Consent(
                    user_id=self.user_id,
                    bank_code=bank,
                    kind=ConsentKind.accounts,
                    request_id=f"req-{uuid.uuid4().hex[:12]}",
                    consent_id=f"consent-{uuid.uuid4().hex[:12]}",
                    status=ConsentStatus.authorized,
                    expires_at=datetime.now(UTC) + timedelta(days=consent_days_left),
                )
            )

    def save(self, engine: Engine) -> None:
        with Session(engine, expire_on_commit=False) as session:
            # Parents first: accounts before their transactions.
            order = (BankConnection, Consent, BankAccount, ProductAgreement, BankTransaction)
            for kind in order:
                session.add_all([row for row in self.rows if isinstance(row, kind)])
                session.flush()
            session.commit()
        self.rows.clear()


MONTHS = ("2025-12", "2026-01", "2026-02", "2026-03")


def steady_earner(data: BankData) -> BankAccount:
    """Salary 80 000 on the 5th; rent 30 000 on the 10th; internet 1 000 on the 25th;
    groceries 4 000 on the 1st and 18th (not monthly: two a month). Balance 100 000."""
    acc = data.account("acc-1", balance_rub=100_000)
    data.monthly(acc, [f"{m}-05" for m in MONTHS], 80_000, "Зарплата за месяц")
    data.monthly(
        acc, [f"{m}-10" for m in MONTHS], -30_000, "Аренда квартиры", counterparty="ИП Арендодатель"
    )
    data.monthly(acc, [f"{m}-25" for m in MONTHS[:3]], -1_000, "Интернет", counterparty="Провайдер")
    for day in ("01", "18"):
        data.monthly(
            acc,
            [f"{m}-{day}" for m in MONTHS],
            -4_000,
            "Продукты",
            mcc="5411",
            merchant_name="Пятёрочка",
        )
    return acc
