"""Demo processing data for `make run`: two online traders (pay-ins and pay-outs) with
approved requisites and a deposit, so a demo pay-in matches at once, and a funded store
balance, so a demo pay-out is held at once. Idempotent: safe on every start."""

from __future__ import annotations

from sqlmodel import Session, select

from core.security import SecretBox
from core.settings import get_settings
from models.ledger import AccountKind
from models.merchants import Store
from models.traders import Requisite, RequisiteStatus, Trader, number_fingerprint
from models.users import User
from processing.ledger.postings import deposit

# Demo card numbers (test ranges); they only ever exist on a local demo platform.
DEMO_REQUISITES = {
    "trader1": ("2200000000000001", "Ivan Petrov", "sber"),
    "trader2": ("2200000000000002", "Maria Ivanova", "tbank"),
}
DEMO_DEPOSIT_MINOR = 10_000_000  # 100 000.00 RUB each
DEMO_STORE_BALANCE_MINOR = 5_000_000  # 50 000.00 RUB for demo pay-outs


def seed_processing(session: Session, users: dict[str, User], box: SecretBox, store: Store) -> None:
    key = get_settings().fingerprint_secret
    for name, (number, holder, bank) in DEMO_REQUISITES.items():
        user = users[name]
        trader = session.exec(select(Trader).where(Trader.user_id == user.id)).first()
        if trader is None:
            trader = Trader(
                user_id=user.id, is_online=True, payin_reward_bps=150, payout_enabled=True
            )
            session.add(trader)
            session.flush()
        fingerprint = number_fingerprint(key, number)
        if (
            session.exec(select(Requisite).where(Requisite.number_hash == fingerprint)).first()
            is None
        ):
            session.add(
                Requisite(
                    trader_id=trader.id,
                    number_encrypted=box.encrypt(number),
                    number_last4=number[-4:],
                    number_hash=fingerprint,
                    holder_name=holder,
                    bank_code=bank,
                    payment_method="card",
                    currency="RUB",
                    status=RequisiteStatus.approved,
                    max_open_orders=20,
                )
            )
        # The key makes the deposit happen once, however often the launcher runs.
        deposit(session, trader.id, "RUB", DEMO_DEPOSIT_MINOR, f"seed:{name}")
    deposit(session, store.id, "RUB", DEMO_STORE_BALANCE_MINOR, "seed", AccountKind.store)
    session.flush()
