"""Demo currencies, rates and collateral for `make run`: a second store of the demo merchant
that settles in USDT (its API key and signing secret printed like the first store's), a
manual USDT/RUB rate its pay-ins are priced with, and a security deposit on trader1's RUB
balance, so the trader desk shows collateral.

Everything goes through the services the admin and merchant API use, and only what is
missing is done: a second start changes nothing. What an administrator set is kept: another
rate for the pair, a deposit of the trader's own (0 too), another settlement currency (only
an unset one, or a deposit back on the platform default, gets the demo's again).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from core.db import build_engine
from core.security import SecretBox, hash_api_key
from core.settings import Settings
from models.base import utcnow
from models.ledger import AccountKind
from models.merchants import Store, StoreCreate
from models.rates import MANUAL, ExchangeRate, RateUpdate
from models.traders import SecurityDepositUpdate, Trader
from models.users import User
from processing.accounts.admin import set_settlement_currency
from processing.accounts.collateral import collateral_of, set_security_deposit
from processing.accounts.merchants import create_store, merchant_of, rotate_api_key
from processing.ledger.postings import account_for
from processing.platform.rates import is_stale, set_manual
from processing.platform.settings import effective

USDT_STORE = "Demo Store USDT"
SETTLEMENT = "USDT"
# One USDT in RUB (the bundled emulator's provider quotes the same pair).
RATE_BASE, RATE_QUOTE = "USDT", "RUB"
DEMO_RATE = RateUpdate(buy="95.10", sell="95.60", max_age_s=30 * 86_400)
# trader1 (funded with 100 000.00 RUB) keeps 20 000.00 RUB frozen as their security deposit.
COLLATERAL_TRADER = "trader1"
DEMO_SECURITY_DEPOSIT = SecurityDepositUpdate(currency="RUB", amount="20000.00")


def seed_fx(
    engine: Engine,
    user_ids: dict[str, uuid.UUID],
    box: SecretBox,
    settings: Settings,
    creds: dict[str, Any],
    inbox_url: str,
) -> None:
    # Each service commits, and reads its rows afterwards as the API's sessions do.
    with Session(engine, expire_on_commit=False) as session:
        _ensure_rate(session, user_ids["admin"])
        store = _ensure_usdt_store(session, user_ids["merchant"], box, settings, creds, inbox_url)
        creds["usdt_store_id"] = str(store.id)
        creds["usdt_store_signing_secret"] = box.decrypt(store.signing_secret_encrypted)
        query = select(Trader).where(Trader.user_id == user_ids[COLLATERAL_TRADER])
        _ensure_security_deposit(session, session.exec(query).one().id)


def _is_demo_rate(row: ExchangeRate) -> bool:
    demo = (MANUAL, DEMO_RATE.buy, DEMO_RATE.sell, DEMO_RATE.max_age_s)
    return (row.source, row.buy, row.sell, row.max_age_s) == demo


def _ensure_rate(session: Session, admin_id: uuid.UUID) -> None:
    """The demo's manual rate when the pair has none (either way round); the demo's own rate
    again once it is stale. A rate an administrator set, or the provider's, is kept."""
    row = session.get(ExchangeRate, (RATE_BASE, RATE_QUOTE))
    inverse = session.get(ExchangeRate, (RATE_QUOTE, RATE_BASE))
    missing = row is None and inverse is None
    if missing or (row is not None and _is_demo_rate(row) and is_stale(row, utcnow())):
        set_manual(session, base=RATE_BASE, quote=RATE_QUOTE, body=DEMO_RATE, actor_id=admin_id)


def _ensure_usdt_store(
    session: Session,
    owner_id: uuid.UUID,
    box: SecretBox,
    settings: Settings,
    creds: dict[str, Any],
    inbox_url: str,
) -> Store:
    merchant = merchant_of(session, user_id=owner_id)
    query = select(Store).where(Store.merchant_id == merchant.id, Store.name == USDT_STORE)
    store = session.exec(query.order_by(col(Store.created_at))).first()
    known_key = creds.get("usdt_store_api_key")
    if store is None:
        body = StoreCreate(name=USDT_STORE, currency="RUB", callback_url=inbox_url)
        platform = effective(session, settings)
        created = create_store(
            session, user_id=owner_id, body=body, box=box, allow_private=True, platform=platform
        )
        creds["usdt_store_api_key"] = created.api_key
        store = session.get_one(Store, created.id)
    elif not known_key or store.api_key_hash != hash_api_key(known_key):
        # A lost credentials file means the old key is unknown: rotate so the printed key works.
        rotated = rotate_api_key(session, user_id=owner_id, store_id=store.id)
        creds["usdt_store_api_key"] = rotated.api_key
    if store.settlement_currency is None:
        store = set_settlement_currency(session, Store, store.id, "Store", SETTLEMENT)
    return store


def _ensure_security_deposit(session: Session, trader_id: uuid.UUID) -> None:
    """The demo deposit where the trader has none of their own (an administrator's, 0 too,
    is kept; one returned to the platform default gets the demo's again)."""
    account = account_for(session, AccountKind.trader, trader_id, DEMO_SECURITY_DEPOSIT.currency)
    if account.security_deposit_minor is None:
        set_security_deposit(session, trader_id=trader_id, body=DEMO_SECURITY_DEPOSIT)


def _age(seconds: int) -> str:
    return f"{seconds // 86_400} days" if seconds % 86_400 == 0 else f"{seconds} s"


def _rate_line(row: ExchangeRate | None) -> list[str]:
    pair = f"{RATE_BASE}/{RATE_QUOTE}"
    if row is None:
        return [f"  Rate {pair}:  none yet (the USDT store's pay-ins answer 503 rate_unavailable)"]
    state = "STALE" if is_stale(row, utcnow()) else "fresh"
    line = (
        f"  Rate {pair}:  buy {row.buy} / sell {row.sell} RUB per USDT "
        f"({row.source}, {state}, max age {_age(row.max_age_s)})"
    )
    if row.source == MANUAL:
        note = (
            "the provider never overwrites a manual rate;"
            f" DELETE /api/admin/rates/{pair} hands the pair back to it"
        )
    else:
        note = "refreshed from the provider by the worker's schedule"
    return [line, f"{'':18}{note}"]


def fx_lines(settings: Settings, credentials: dict[str, Any], base: str) -> list[str]:
    """The banner's part on the USDT store, the rate in force, the trader's collateral and
    where deposits and withdrawals are approved."""
    engine = build_engine(settings)
    try:
        with Session(engine) as session:
            rate = session.get(ExchangeRate, (RATE_BASE, RATE_QUOTE))
            trader = session.exec(
                select(Trader)
                .join(User, col(User.id) == Trader.user_id)
                .where(User.email == f"{COLLATERAL_TRADER}@jivapay.dev")
            ).first()
            collateral = [] if trader is None else collateral_of(session, trader.id)
    finally:
        engine.dispose()
    lines = [
        "",
        "Currencies, rates and collateral:",
        f"  USDT store:     {credentials.get('usdt_store_id')}"
        f"  ({USDT_STORE}: pay-ins in RUB, balance in USDT)",
        f"    store API key (X-API-Key): {credentials.get('usdt_store_api_key')}",
        f"    store signing secret:      {credentials.get('usdt_store_signing_secret')}",
        '    POST /api/gateway/payins {"amount": "1500.00", "currency": "RUB", ...}'
        ' → "settlement": {"currency": "USDT", "rate", "amount"}',
        *_rate_line(rate),
    ]
    for c in collateral:
        lines.append(
            f"  Collateral:     {COLLATERAL_TRADER}@jivapay.dev {c.currency}: security deposit"
            f" {c.security_deposit}, working balance {c.working_balance}"
            f" (balance {c.balance}, held {c.held})"
        )
    if trader is not None:
        lines.append(f"{'':18}GET {base}/api/admin/traders/{trader.id}/collateral")
    lines += [
        "  Deposits:       GET /api/admin/deposits?status=requested,"
        " POST /api/admin/deposits/{id}/approve (or /reject)",
        "  Withdrawals:    GET /api/admin/withdrawals?status=requested,"
        " POST /api/admin/withdrawals/{id}/approve (or /reject), then /paid",
        f"  Reports:        GET {base}/api/admin/reports/turnover?granularity=day"
        "&group_by=merchant,kind (add &format=csv for CSV; complete a pay-in first)",
        "  Reference data: GET|POST /api/admin/reference/currencies (banks, payment-methods),"
        ' PATCH …/{code} {"is_active": false} disables one in use',
    ]
    return lines
