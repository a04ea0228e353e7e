"""Static reference data of the emulated banks: products, merchants, holder names, profiles."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Product:
    product_id: str
    product_type: str  # deposit | loan | card
    name: str
    description: str
    interest_rate: Decimal
    min_amount: Decimal
    max_amount: Decimal
    term_months: int | None


@dataclass(frozen=True)
class Merchant:
    name: str
    mcc: str
    category: str


# Rates differ a little per bank so comparisons between banks are not all ties.
_RATE_SHIFT = {"vbank": Decimal("0.0"), "abank": Decimal("0.5"), "sbank": Decimal("-0.3")}


# (id suffix, type, name, description, annual rate %, min amount, max amount, term months)
_CATALOGUE = (
    ("deposit-001", "deposit", "Вклад «Надёжный»", "Срочный вклад с ежемесячной капитализацией",
     "16.0", "10000", "30000000", 12),
    ("deposit-002", "deposit", "Вклад «Гибкий»", "Вклад с пополнением и частичным снятием",
     "13.5", "1000", "10000000", 6),
    ("loan-001", "loan", "Потребительский кредит", "Кредит наличными без залога",
     "19.9", "50000", "5000000", 36),
    ("loan-002", "loan", "Автокредит", "Кредит на покупку автомобиля",
     "14.5", "300000", "7000000", 60),
    ("card-001", "card", "Кредитная карта «120 дней»", "Кредитная карта с льготным периодом",
     "29.9", "10000", "1000000", None),
    ("card-002", "card", "Дебетовая карта «Кэшбэк»", "Дебетовая карта с кэшбэком до 5%",
     "0.0", "0", "0", None),
)  # fmt: skip


def products_for(bank: str) -> list[Product]:
    """The product catalogue of one bank; rates are annual percentages."""
    shift = _RATE_SHIFT.get(bank, Decimal(0))
    products = []
    for suffix, kind, name, description, rate, low, high, term in _CATALOGUE:
        # A debit card has no rate to shift.
        shifted = Decimal(rate) + shift if Decimal(rate) else Decimal(rate)
        products.append(
            Product(
                f"prod-{bank[0]}b-{suffix}",
                kind,
                name,
                description,
                shifted,
                Decimal(low),
                Decimal(high),
                term,
            )
        )
    return products


GROCERIES = (
    Merchant("Пятёрочка", "5411", "Супермаркеты"),
    Merchant("Перекрёсток", "5411", "Супермаркеты"),
    Merchant("ВкусВилл", "5411", "Супермаркеты"),
    Merchant("Магнит", "5411", "Супермаркеты"),
    Merchant("Лента", "5411", "Супермаркеты"),
)
CAFES = (
    Merchant("Шоколадница", "5812", "Рестораны"),
    Merchant("Теремок", "5814", "Фастфуд"),
    Merchant("Кофемания", "5812", "Рестораны"),
)
TRANSPORT = (
    Merchant("Яндекс Такси", "4121", "Такси"),
    Merchant("Московский метрополитен", "4111", "Транспорт"),
)
SHOPPING = (
    Merchant("Ozon", "5399", "Маркетплейсы"),
    Merchant("Wildberries", "5399", "Маркетплейсы"),
    Merchant("М.Видео", "5732", "Электроника"),
)
UTILITIES = (
    Merchant("Мосэнергосбыт", "4900", "Коммунальные услуги"),
    Merchant("МТС", "4814", "Связь"),
)

HOLDERS = (
    "Иванов Иван Иванович",
    "Петрова Анна Сергеевна",
    "Смирнов Алексей Петрович",
    "Кузнецова Мария Андреевна",
    "Попов Дмитрий Олегович",
    "Волкова Елена Викторовна",
    "Соколов Сергей Николаевич",
    "Морозова Ольга Дмитриевна",
    "Новиков Павел Игоревич",
    "Фёдорова Наталья Павловна",
)
EMPLOYERS = ("ООО «Ромашка»", "АО «Техносила»", "ПАО «Северсталь»", "ООО «Альфа Софт»")
LANDLORDS = ("УК «Жилкомсервис»", "ИП Сидоров А.В. (аренда)", "ТСЖ «Берёзка»")

# Account kinds each client holds at every bank, by client number (teamNNN-k).
# k=3 has no loans and no credit card; k=9 holds only a loan account.
PROFILES: dict[int, tuple[str, ...]] = {
    1: ("Checking", "Savings", "Loan", "CreditCard"),
    2: ("Checking", "Savings", "Deposit", "Loan"),
    3: ("Checking", "Savings", "Deposit"),
    4: ("Checking", "CreditCard"),
    5: ("Checking", "Savings", "Loan"),
    6: ("Checking", "Deposit", "Loan", "CreditCard"),
    7: ("Checking", "Savings"),
    8: ("Checking", "Savings", "Deposit", "Loan"),
    9: ("Loan",),
    10: ("Checking", "Savings", "Deposit", "Loan", "CreditCard"),
}
NO_LOANS_CLIENT = 3
LOAN_ONLY_CLIENT = 9

# First digits of Russian account numbers by balance-sheet account (40817 = personal current).
ACCOUNT_PREFIX = {
    "Checking": "40817810",
    "Savings": "42301810",
    "Deposit": "42305810",
    "Loan": "45507810",
    "CreditCard": "40817810",
}
NICKNAMES = {
    "Checking": "Текущий счёт",
    "Savings": "Накопительный счёт",
    "Deposit": "Вклад «Надёжный»",
    "Loan": "Потребительский кредит",
    "CreditCard": "Кредитная карта",
}
