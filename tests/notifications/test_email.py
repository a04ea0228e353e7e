"""E-mail: a staff member who chose e-mail for approvals gets one from a real SMTP server
(aiosmtpd) when a trader asks to deposit; an SMTP server down is retried until it is back."""

from __future__ import annotations

import uuid

import httpx
from aiosmtpd.controller import Controller
from sqlmodel import Session, col, select

from contracts.notifications import NotificationKind
from core.context import ServiceContext
from core.db import session_scope
from models.notifications import Notification, NotificationDelivery
from models.users import Role
from processing.notifications.outbox import notify
from tests.factories import actor
from tests.notifications.conftest import Kit
from tests.processing.conftest import make_trader, new_currency

PREFS = "/api/me/notifications/preferences"


async def test_an_approval_waiting_arrives_by_email(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, kit: Kit
) -> None:
    admin = await actor(api, ctx.engine, Role.admin)
    chosen = await api.put(
        PREFS, json={"channels": {"approval_waiting": ["email"]}}, headers=admin.headers
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["channels"]["approval_waiting"] == ["email"]
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency)
    asked = await api.post(
        "/api/trader/deposits",
        data={"amount": "250.00", "currency": currency, "tx_hash": "0x" + "ab" * 16,
              "reference": uuid.uuid4().hex},
        headers=trader.headers,
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    await kit.sweep()
    await kit.wait_delivery(admin.user_id, "approval_waiting", "email", "sent")
    mail = next(m for m in kit.inbox.messages if m["To"] == admin.email)
    assert mail["Subject"] == "JivaPay: A deposit awaits approval"
    body = str(mail.get_content())
    assert f"250.00 {currency}" in body and asked.json()["id"] in body
    assert kit.inbox.envelopes[kit.inbox.messages.index(mail)][1] == [admin.email]


async def test_an_smtp_server_down_is_retried_until_it_is_back(
    api: httpx.AsyncClient, ctx: ServiceContext, kit: Kit
) -> None:
    someone = await actor(api, ctx.engine, Role.trader)
    await api.put(PREFS, json={"channels": {"balance_low": ["email"]}}, headers=someone.headers)
    kit.inbox.server.stop()
    payload = {"currency": "RUB", "working_balance": "10.00", "minimum": "500.00"}
    with session_scope(ctx.engine) as session:
        notify(session, someone.user_id, NotificationKind.balance_low, payload, uuid.uuid4().hex)
    await kit.sweep()
    await kit.wait_until(lambda: failed_tries(ctx, someone.user_id) >= 1)
    restarted = Controller(kit.inbox, hostname="127.0.0.1", port=kit.inbox.port)
    restarted.start()
    kit.inbox.server = restarted
    await kit.wait_delivery(someone.user_id, "balance_low", "email", "sent")
    mail = next(m for m in kit.inbox.messages if m["To"] == someone.email)
    assert "below the minimum 500.00 RUB" in str(mail.get_content())


def failed_tries(ctx: ServiceContext, user_id: uuid.UUID) -> int:
    with Session(ctx.engine) as session:
        found = session.exec(
            select(NotificationDelivery.attempts)
            .join(Notification, col(Notification.id) == NotificationDelivery.notification_id)
            .where(Notification.user_id == user_id)
        ).first()
    return found or 0
