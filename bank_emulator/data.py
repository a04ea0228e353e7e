"""Deterministic synthetic data of one client at one bank.

Every value comes from `random.Random(f"{seed}|{bank}|{client}")` (string seeds hash the same
on every run), so the same seed gives the same accounts, ids and amounts. "Now" is the bank's
`anchor_date` at 12:00 UTC; the history covers the 365 days before it.

Which accounts each client holds (at every bank) is fixed in `catalog.PROFILES`:
- `teamNNN-3` has no loans and no credit card (checking, savings, deposit);
- `teamNNN-9` holds only a loan account (repaid by transfers from outside the bank).

The salary ("💼 Зарплата", on the 5th) lands at the client's primary bank, picked by client
number (1→vbank, 2→abank, 3→sbank, …); the primary bank then moves money to the checking
accounts at the other two banks on the 6th, with the same amount on both sides, so own
transfers between banks can be matched. Liability balances: a Loan account's balance is the
outstanding debt; a CreditCard account's booked balance is minus the used limit.
"""

from __future__ import annotations

import calendar
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

from bank_emulator import catalog
from bank_emulator.catalog import Merchant, Product
from bank_emulator.config import BANK_CODES

MSK = timezone(timedelta(hours=3))
CENT = Decimal("0.01")
PENDING_WINDOW = timedelta(days=2)


@dataclass
class Account:
    account_id: str
    sub_type: str
    nickname: str
    opening_date: date
    identification: str
    holder: str
    currency: str = "RUB"
    # Balance at the start of the history window (debt / used limit for liabilities).
    opening_balance: Decimal = Decimal(0)
    credit_limit: Decimal | None = None

    @property
    def is_liability(self) -> bool:
        return self.sub_type in ("Loan", "CreditCard")


@dataclass
class Transaction:
    transaction_id: str
    account_id: str
    amount: Decimal
    credit: bool
    status: str  # Booked | Pending | declined | refunded (the last two leak from the bank's DB)
    booked_at: datetime
    information: str
    merchant: Merchant | None = None
    card_masked: str | None = None
    counterparty: str | None = None


@dataclass
class Card:
    card_id: str
    account_id: str
    masked: str
    card_type: str
    name: str
    expiry: str


@dataclass
class Agreement:
    agreement_id: str
    product: Product
    amount: Decimal
    start: datetime
    end: datetime | None
    account_id: str
    account_number: str
    status: str = "active"


@dataclass
class ClientData:
    client_id: str
    holder: str
    accounts: list[Account] = field(default_factory=list)
    transactions: dict[str, list[Transaction]] = field(default_factory=dict)
    cards: list[Card] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)


def anchor_datetime(anchor: date) -> datetime:
    return datetime.combine(anchor, time(12, 0), UTC)


def month_starts(anchor: date, months: int = 13) -> list[date]:
    """First days of the `months` calendar months ending with the anchor's month, oldest first."""
    result = []
    year, month = anchor.year, anchor.month
    for _ in range(months):
        result.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return result[::-1]


def on_day(month: date, day: int, hour: int, minute: int = 0) -> datetime:
    """A Moscow wall-clock moment in `month`, clamped to the month's length, in UTC."""
    last = calendar.monthrange(month.year, month.month)[1]
    local = datetime(month.year, month.month, min(day, last), hour, minute, tzinfo=MSK)
    return local.astimezone(UTC)


def money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


class ClientGenerator:
    """Builds one client's accounts and history; one instance per (bank, client)."""

    def __init__(self, bank: str, client_id: str, seed: int, anchor: date, multiplier: int):
        self.bank, self.client_id, self.seed = bank, client_id, seed
        self.k = int(client_id.rsplit("-", 1)[1])
        # Seeded on purpose: synthetic data must repeat exactly; nothing here is a secret.
        self.rng = random.Random(f"{seed}|{bank}|{client_id}")  # noqa: S311
        self.now = anchor_datetime(anchor)
        self.window_start = self.now - timedelta(days=365)
        self.months = month_starts(anchor)
        self.multiplier = multiplier
        self.primary_bank = BANK_CODES[(self.k - 1) % len(BANK_CODES)]
        holder = catalog.HOLDERS[(self.k - 1) % len(catalog.HOLDERS)]
        self.data = ClientData(client_id, holder)
        self._seq = 0
        self.products = {p.product_type: p for p in reversed(catalog.products_for(bank))}

    def shared_rng(self, *parts: object) -> random.Random:
        """A generator that is the same at every bank, so both sides of a transfer agree."""
        return random.Random("|".join([str(self.seed), self.client_id, *map(str, parts)]))  # noqa: S311

    def tx_id(self, account_id: str) -> str:
        self._seq += 1
        raw = f"{self.bank}|{self.client_id}|{account_id}|{self._seq}".encode()
        return "tx-" + hashlib.sha256(raw).hexdigest()[:20]

    def add(
        self,
        account: Account,
        when: datetime,
        amount: Decimal,
        credit: bool,
        info: str,
        merchant: Merchant | None = None,
        card: str | None = None,
        counterparty: str | None = None,
    ) -> None:
        """Record one movement; before the window it only moves the opening balance."""
        if when > self.now:
            return
        if when < self.window_start:
            grows = credit != account.is_liability
            account.opening_balance += amount if grows else -amount
            return
        status = "Booked"
        if merchant is not None and self.now - when < PENDING_WINDOW:
            status = "Pending"
        elif merchant is not None and self.rng.random() < 0.02:
            status = self.rng.choice(("declined", "refunded"))
        tx = Transaction(
            self.tx_id(account.account_id),
            account.account_id,
            amount,
            credit,
            status,
            when,
            info,
            merchant,
            card,
            counterparty,
        )
        self.data.transactions[account.account_id].append(tx)

    def new_account(self, sub_type: str, index: int, opened: date) -> Account:
        bank_index = BANK_CODES.index(self.bank) + 1 if self.bank in BANK_CODES else 9
        digits = "".join(str(self.rng.randrange(10)) for _ in range(12))
        account = Account(
            account_id=f"acc-{bank_index}{self.k:02d}{index}",
            sub_type=sub_type,
            nickname=catalog.NICKNAMES[sub_type],
            opening_date=opened,
            identification=catalog.ACCOUNT_PREFIX[sub_type] + digits,
            holder=self.data.holder,
        )
        self.data.accounts.append(account)
        self.data.transactions[account.account_id] = []
        return account

    def new_card(self, account: Account, card_type: str, name: str) -> str:
        masked = f"****{self.rng.randrange(10000):04d}"
        expiry = f"{self.rng.randint(1, 12):02d}/{(self.now.year + 3) % 100:02d}"
        card_id = f"card-{account.account_id.removeprefix('acc-')}"
        self.data.cards.append(Card(card_id, account.account_id, masked, card_type, name, expiry))
        return masked

    def new_agreement(
        self,
        account: Account,
        product: Product,
        amount: Decimal,
        start: datetime,
        months: int | None,
    ) -> None:
        end = start + timedelta(days=round(30.44 * months)) if months else None
        agreement_id = f"agr-{account.account_id.removeprefix('acc-')}"
        self.data.agreements.append(
            Agreement(
                agreement_id,
                product,
                amount,
                start,
                end,
                account.account_id,
                account.identification,
            )
        )
