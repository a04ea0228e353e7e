"""The statement bridge demo for `make run`: the demo trader `bridge@jivapay.dev` holds the
team's second sandbox identity, has connected VBank through Connect (consent → sync, run on
every start: the emulator keeps its consents in memory), and a VTB-labelled requisite whose
number is their VBank current account's, linked to it. A pay-in asking for `bank_code`
`vtb` goes to them; a credit of its amount added at the emulator completes it with no
trader action. Idempotent; a failure is reported and the platform keeps running.

Seeded only when VBank is the bundled emulator (the demo needs its admin routes): against
the real banks it would only keep a sandbox identity from real users."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Final

import httpx
from sqlmodel import Session, select

from connect import identities, onboarding
from contracts.connect import ConnectionStatus
from core.context import ServiceContext
from core.settings import Settings
from core.temporal import TemporalConnector
from models.banking import BankAccount
from models.connect import BankConnection
from models.statement import RequisiteLink
from models.traders import Requisite, RequisiteStatus, Trader, number_fingerprint
from models.users import User
from processing.bridge import links as statement_links
from processing.ledger.postings import deposit

BRIDGE_EMAIL = "bridge@jivapay.dev"
BANK: Final = "vbank"
PLATFORM_BANK = "vtb"  # what a demo pay-in asks for to reach this trader
EMULATOR_ADMIN = {"X-Emulator-Admin": "emulator-admin"}


@dataclass(frozen=True)
class BridgeDemo:
    account_id: str  # at the emulator
    client_id: str
    number_last4: str


def bridge_possible(settings: Settings) -> bool:
    """The demo runs against the bundled emulator only."""
    return settings.uses_bundled_emulator(BANK)


def _current_account(settings: Settings, client_id: str) -> tuple[str, str]:
    url = f"{settings.bundled_emulator_url}/{BANK}/admin/clients/{client_id}"
    found = httpx.get(url, headers=EMULATOR_ADMIN, timeout=10).raise_for_status().json()
    account = next(a for a in found["accounts"] if a["sub_type"] == "Checking")
    return account["account_id"], account["identification"]


def _rows(ctx: ServiceContext, user: User, number: str) -> tuple[Trader, uuid.UUID]:
    key = ctx.settings.fingerprint_secret
    with Session(ctx.engine, expire_on_commit=False) as session:
        trader = session.exec(select(Trader).where(Trader.user_id == user.id)).first()
        if trader is None:
            trader = Trader(user_id=user.id, is_online=True, payin_reward_bps=150)
            session.add(trader)
            session.flush()
        fingerprint = number_fingerprint(key, number)
        requisite = session.exec(
            select(Requisite).where(Requisite.number_hash == fingerprint)
        ).first()
        if requisite is None:
            requisite = Requisite(
                trader_id=trader.id,
                number_encrypted=ctx.secrets.encrypt(number),
                number_last4=number[-4:],
                number_hash=fingerprint,
                holder_name="Pavel Smirnov",
                bank_code=PLATFORM_BANK,
                payment_method="card",
                currency="RUB",
                status=RequisiteStatus.approved,
                max_open_orders=20,
            )
            session.add(requisite)
        deposit(session, trader.id, "RUB", 10_000_000, "seed:bridge")
        session.commit()
        return trader, requisite.id


def _ready(ctx: ServiceContext, user_id: uuid.UUID) -> bool:
    with Session(ctx.engine) as session:
        row = session.exec(
            select(BankConnection).where(
                BankConnection.user_id == user_id, BankConnection.bank_code == BANK
            )
        ).first()
        return row is not None and row.status == ConnectionStatus.ready


async def seed_bridge(settings: Settings) -> BridgeDemo:
    ctx = ServiceContext.build(settings)
    connector = TemporalConnector(settings)
    try:
        with Session(ctx.engine) as session:
            user = session.exec(select(User).where(User.email == BRIDGE_EMAIL)).one()
        client_id = identities.pool_names(settings)[1]
        holder = identities.get_identity(ctx.engine, client_id).user_id
        if holder is not None and holder != user.id:
            raise RuntimeError(f"{client_id} is held by another user")
        # The emulator answers first: an identity is never kept for a demo that cannot run.
        account_id, number = await asyncio.to_thread(_current_account, settings, client_id)
        if holder is None:
            identities.assign_specific(ctx.engine, client_id, user.id)
        trader, requisite_id = await asyncio.to_thread(_rows, ctx, user, number)
        client = await connector.get()
        # The emulator forgets consents when it restarts: the first connect then finds the
        # stored one refused (marked for re-consent), the second asks for a new one.
        for _ in range(2):
            started = await onboarding.connect_bank(
                ctx, client, user_id=user.id, bank_code=BANK, sign=False
            )
            handle = client.get_workflow_handle(started.workflow_id)
            await asyncio.wait_for(handle.result(), 120)
            if await asyncio.to_thread(_ready, ctx, user.id):
                break
        with Session(ctx.engine) as session:
            row = session.exec(
                select(BankAccount).where(
                    BankAccount.user_id == user.id, BankAccount.external_id == account_id
                )
            ).one()
        link = RequisiteLink(bank=BANK, account_id=row.id)
        await statement_links.link(ctx, client, trader, requisite_id, link)
        return BridgeDemo(account_id, client_id, number[-4:])
    finally:
        ctx.engine.dispose()
