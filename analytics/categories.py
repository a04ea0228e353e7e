"""Transaction categories from bank code, MCC, merchant category and description text.

Rules are data (the platform keeps them in a table admins edit): each `CategoryRule` names
criteria that must *all* hold; rules are tried in ascending `priority` (ties by id) and the
first match wins. Re-categorising after a rule change is calling `categorise` again.
Own transfers are found from the pairing of amounts, not from rules, and take precedence.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import lru_cache

from analytics.inputs import TransactionInput, TxKey

SALARY = "salary"
OTHER_INCOME = "other_income"
GROCERIES = "groceries"
RENT_UTILITIES = "rent_utilities"
TRANSPORT = "transport"
RESTAURANTS = "restaurants"
HEALTH = "health"
ENTERTAINMENT = "entertainment"
TRANSFERS = "transfers"
LOAN_PAYMENT = "loan_payment"
CASH = "cash"
OTHER = "other"
OWN_TRANSFER = "own_transfer"

# Spending a household cannot easily cut: the base of "liquid savings months".
ESSENTIAL_CATEGORIES = frozenset({GROCERIES, RENT_UTILITIES, TRANSPORT, HEALTH, LOAN_PAYMENT})
CREDIT = "credit"
DEBIT = "debit"


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


@dataclass(frozen=True)
class CategoryRule:
    id: str
    priority: int
    category: str
    bank_tx_code: str | None = None
    mcc_codes: tuple[str, ...] = field(default=())
    merchant_category: str | None = None
    text_pattern: str | None = None
    direction: str | None = None

    def __post_init__(self) -> None:
        # An admin's typo in a regex must fail when the rule is loaded, not mid-snapshot.
        if self.text_pattern is not None:
            _compiled(self.text_pattern)
        if self.direction not in (None, CREDIT, DEBIT):
            raise ValueError(f"rule {self.id}: direction must be credit, debit or None")

    def matches(self, tx: TransactionInput) -> bool:
        if self.direction is not None and _direction(tx) != self.direction:
            return False
        if self.bank_tx_code is not None and (tx.bank_tx_code or "") != self.bank_tx_code:
            return False
        if self.mcc_codes and (tx.mcc or "").strip() not in self.mcc_codes:
            return False
        if self.merchant_category is not None and (
            (tx.merchant_category or "").casefold() != self.merchant_category.casefold()
        ):
            return False
        if self.text_pattern is not None:
            return _compiled(self.text_pattern).search(_searchable_text(tx)) is not None
        return True


def _direction(tx: TransactionInput) -> str | None:
    if tx.amount_minor > 0:
        return CREDIT
    return DEBIT if tx.amount_minor < 0 else None


def _searchable_text(tx: TransactionInput) -> str:
    parts = (tx.description, tx.merchant_name, tx.counterparty, tx.merchant_category)
    return " | ".join(p for p in parts if p)


# Priorities: explicit salary / loan texts (10–20) beat MCC codes (100s), which beat
# generic texts (300s); "перевод" (transfer) is last because many bank texts contain it.
DEFAULT_RULES: tuple[CategoryRule, ...] = (
    CategoryRule(
        "salary-text",
        10,
        SALARY,
        direction=CREDIT,
        text_pattern=r"зарплат|заработн|аванс|salary|payroll|оклад",
    ),
    CategoryRule(
        "loan-text",
        20,
        LOAN_PAYMENT,
        direction=DEBIT,
        text_pattern=r"кредит|погашени|ипотек|loan|рассрочк",
    ),
    CategoryRule("cash-mcc", 100, CASH, mcc_codes=("6010", "6011")),
    CategoryRule(
        "groceries-mcc", 110, GROCERIES, mcc_codes=("5411", "5422", "5441", "5451", "5462", "5499")
    ),
    CategoryRule("restaurants-mcc", 120, RESTAURANTS, mcc_codes=("5811", "5812", "5813", "5814")),
    CategoryRule(
        "transport-mcc",
        130,
        TRANSPORT,
        mcc_codes=("4111", "4121", "4131", "4511", "4784", "5541", "5542", "7523"),
    ),
    CategoryRule(
        "health-mcc",
        140,
        HEALTH,
        mcc_codes=("5122", "5912", "8011", "8021", "8043", "8062", "8071", "8099"),
    ),
    CategoryRule(
        "entertainment-mcc",
        150,
        ENTERTAINMENT,
        mcc_codes=("5815", "5816", "5817", "5818", "7832", "7841", "7922", "7991", "7996", "7999"),
    ),
    CategoryRule(
        "utilities-mcc", 160, RENT_UTILITIES, mcc_codes=("4812", "4814", "4899", "4900", "6513")
    ),
    CategoryRule(
        "groceries-text",
        300,
        GROCERIES,
        direction=DEBIT,
        text_pattern=r"продукт|супермаркет|grocer|пят[её]рочк|перекр[её]ст|магнит|ашан|вкусвилл",
    ),
    CategoryRule(
        "rent-text",
        310,
        RENT_UTILITIES,
        direction=DEBIT,
        text_pattern=r"жкх|аренд|коммунал|квартплат|электроэнерг|\brent\b|utilit|интернет|связь",
    ),
    CategoryRule(
        "transport-text",
        320,
        TRANSPORT,
        direction=DEBIT,
        text_pattern=r"транспорт|такси|метро|taxi|азс|бензин|топлив|каршеринг",
    ),
    CategoryRule(
        "restaurants-text",
        330,
        RESTAURANTS,
        direction=DEBIT,
        text_pattern=r"ресторан|кафе|кофе|restaurant|cafe|coffee|доставка еды",
    ),
    CategoryRule(
        "health-text",
        340,
        HEALTH,
        direction=DEBIT,
        text_pattern=r"аптек|здоров|медиц|клиник|стоматолог|pharm|health",
    ),
    CategoryRule(
        "entertainment-text",
        350,
        ENTERTAINMENT,
        direction=DEBIT,
        text_pattern=r"развлеч|кино|театр|концерт|подписк|netflix|spotify|\bигр",
    ),
    CategoryRule("cash-text", 360, CASH, text_pattern=r"банкомат|наличн|\batm\b|\bcash\b"),
    CategoryRule("transfer-text", 900, TRANSFERS, text_pattern=r"перевод|transfer|сбп|p2p"),
)


def categorise(tx: TransactionInput, rules: Iterable[CategoryRule]) -> str:
    """Category of the first matching rule; `other` / `other_income` when none match."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if rule.matches(tx):
            return rule.category
    return OTHER_INCOME if tx.amount_minor > 0 else OTHER


def detect_own_transfers(
    txs: Iterable[TransactionInput], window: timedelta = timedelta(days=2)
) -> set[TxKey]:
    """Keys of transactions that are transfers between the user's own accounts.

    A debit pairs with a credit of the same absolute amount and currency on another own
    account (any bank) booked within `window`. Pairs are taken closest in time first, and
    each transaction is used at most once. Every transaction given is on an own account.
    """
    by_amount: dict[tuple[str, int], list[TransactionInput]] = defaultdict(list)
    for tx in txs:
        if tx.amount_minor != 0:
            by_amount[(tx.currency, abs(tx.amount_minor))].append(tx)
    paired: set[TxKey] = set()
    for group in by_amount.values():
        for debit, credit in _closest_pairs(group, window):
            if debit.key not in paired and credit.key not in paired:
                paired.update((debit.key, credit.key))
    return paired


def _closest_pairs(
    group: Sequence[TransactionInput], window: timedelta
) -> list[tuple[TransactionInput, TransactionInput]]:
    """Candidate (debit, credit) pairs on different accounts within `window`, closest first."""
    candidates = [
        (
            abs(credit.booked_at - debit.booked_at),
            debit.booked_at,
            debit.key,
            credit.key,
            debit,
            credit,
        )
        for debit in group
        if debit.amount_minor < 0
        for credit in group
        if credit.amount_minor > 0
        and credit.account_key != debit.account_key
        and abs(credit.booked_at - debit.booked_at) <= window
    ]
    candidates.sort(key=lambda c: c[:4])
    return [(c[4], c[5]) for c in candidates]


def categorise_all(
    txs: Iterable[TransactionInput],
    rules: Sequence[CategoryRule],
    window: timedelta = timedelta(days=2),
) -> list[TransactionInput]:
    """Copies of `txs` with `category` set: own transfers first, then the rules."""
    tx_list = list(txs)
    own = detect_own_transfers(tx_list, window)
    return [
        replace(tx, category=OWN_TRANSFER if tx.key in own else categorise(tx, rules))
        for tx in tx_list
    ]
