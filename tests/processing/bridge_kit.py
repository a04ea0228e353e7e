"""A trader with a bank connected through Connect (their own sandbox identity at the
emulator, in its strict default mode) and a requisite whose number is one of that bank's
accounts: what the statement bridge tests start from."""

from __future__ import annotations

import asyncio
import secrets
import string
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from sqlmodel import Session

from core.context import ServiceContext
from models.traders import Bank, Requisite, RequisiteStatus, Trader, number_fingerprint
from models.users import Role
from processing.ledger.postings import deposit
from tests.connect.helpers import ADMIN, wait_for_status
from tests.factories import create_user, login

RUB = "RUB"


@dataclass
class BridgeTrader:
    trader_id: uuid.UUID
    user_id: uuid.UUID
    headers: dict[str, str]
    client_id: str  # the sandbox identity, e.g. team042-8
    bank: str
    account_external_id: str
    platform_bank: str  # our reference bank code on the requisite (orders ask for it)
    requisite_id: uuid.UUID
    account_row_id: uuid.UUID | None = None
    others: list[uuid.UUID] = field(default_factory=list)


def _new_bank(ctx: ServiceContext) -> str:
    with Session(ctx.engine) as session:
        code = "zb" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
        session.add(Bank(code=code, name=f"Test bank {code}"))
        session.commit()
        return code


def _requisite(ctx: ServiceContext, trader_id: uuid.UUID, number: str, bank: str) -> uuid.UUID:
    with Session(ctx.engine) as session:
        requisite = Requisite(
            trader_id=trader_id,
            number_encrypted=ctx.secrets.encrypt(number),
            number_last4=number[-4:],
            number_hash=number_fingerprint(ctx.settings.fernet_key.get_secret_value(), number),
            holder_name="Ivan Petrov",
            bank_code=bank,
            payment_method="card",
            currency=RUB,
            status=RequisiteStatus.approved,
        )
        session.add(requisite)
        session.commit()
        return requisite.id


async def emulator_accounts(emulator: str, bank: str, client_id: str) -> dict[str, tuple[str, str]]:
    """sub type → (account id, number) of the client's accounts at the bank."""
    async with httpx.AsyncClient(base_url=emulator) as http:
        found = (await http.get(f"/{bank}/admin/clients/{client_id}", headers=ADMIN)).json()
    return {a["sub_type"]: (a["account_id"], a["identification"]) for a in found["accounts"]}


async def bridge_trader(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    *,
    slot: int,
    bank: str,
    sub_type: str,
) -> BridgeTrader:
    """Trader + identity `team042-{slot}` + `bank` connected through the API (onboarding to
    ready) + an approved RUB requisite numbered as the client's `sub_type` account."""
    client_id = f"team042-{slot}"
    user = create_user(ctx.engine, Role.trader, external_client_id=client_id)
    headers = await login(api, user.email)
    emulator = ctx.settings.bank_base_urls[bank].rsplit("/", 1)[0]
    account_id, number = (await emulator_accounts(emulator, bank, client_id))[sub_type]
    platform_bank = _new_bank(ctx)
    with Session(ctx.engine) as session:
        trader = Trader(user_id=user.id, is_online=True, payin_reward_bps=100)
        session.add(trader)
        session.flush()
        deposit(session, trader.id, RUB, 100_000_000, f"test:{trader.id}")
        session.commit()
        trader_id = trader.id
    requisite_id = _requisite(ctx, trader_id, number, platform_bank)
    started = await api.post("/api/onboarding/start", json={"banks": [bank]}, headers=headers)
    assert started.status_code == 202, started.text
    states = await wait_for_status(api, headers, {"ready", "error", "reconsent_required"})
    assert [b["status"] for b in states if b["bank_code"] == bank] == ["ready"], states
    kit = BridgeTrader(
        trader_id, user.id, headers, client_id, bank, account_id, platform_bank, requisite_id
    )
    accounts = (await api.get("/api/accounts", headers=headers)).json()
    kit.account_row_id = next(
        uuid.UUID(a["id"]) for a in accounts if a["external_id"] == account_id
    )
    return kit


async def link(api: httpx.AsyncClient, kit: BridgeTrader) -> httpx.Response:
    return await api.post(
        f"/api/trader/requisites/{kit.requisite_id}/link",
        json={"bank": kit.bank, "account_id": str(kit.account_row_id)},
        headers=kit.headers,
    )


async def bank_credit(ctx: ServiceContext, kit: BridgeTrader, amount: str, **extra: Any) -> str:
    """A credit on the linked account, booked now, as the bank's own admin adds it."""
    emulator = ctx.settings.bank_base_urls[kit.bank].rsplit("/", 1)[0]
    item = {
        "amount": amount,
        "credit_debit_indicator": "Credit",
        "information": "SBP transfer",
        "counterparty": "Ivan P.",
        **extra,
    }
    body = {
        "client_id": kit.client_id,
        "account_id": kit.account_external_id,
        "transactions": [item],
    }
    async with httpx.AsyncClient(base_url=emulator) as http:
        response = await http.post(f"/{kit.bank}/admin/transactions", json=body, headers=ADMIN)
        response.raise_for_status()
        return str(response.json()["transaction_ids"][0])


def minus(amount: str, cents: int) -> str:
    return str(Decimal(amount) - Decimal(cents) / 100)


async def wait_for(
    api: httpx.AsyncClient, path: str, headers: dict[str, str], done: set[str], limit_s: float
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        body = (await api.get(path, headers=headers)).json()
        if body["status"] in done or asyncio.get_running_loop().time() > deadline:
            return dict(body)
        await asyncio.sleep(0.2)
