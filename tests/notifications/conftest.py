"""Notification test kit: the Bot API stand-in and a real SMTP server (aiosmtpd) on free
ports, and a worker of our own whose settings point at them (its own task queue: the
sweep this kit runs starts the delivery workflows there)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from sqlalchemy import update
from sqlmodel import Session, col, select
from temporalio.client import Client

from contracts.notifications import NOTIFICATION_SWEEP_WORKFLOW, SweepInput, SweepResult
from core.context import ServiceContext
from core.db import session_scope
from launcher.services import free_port
from models.base import utcnow
from models.notifications import Notification, NotificationDelivery
from models.traders import Trader
from telegram_standin.app import create_standin_app
from tests.factories import InProcessServer
from worker import build_worker


@dataclass
class Inbox:
    """What the SMTP server received."""

    port: int = 0
    server: Any = None  # the aiosmtpd Controller: stop it to see deliveries retried
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, _class=EmailMessage, policy=policy.default)
        self.messages.append(mail)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


@dataclass
class Kit:
    ctx: ServiceContext
    client: Client
    queue: str
    bot_url: str
    http: httpx.AsyncClient
    inbox: Inbox

    async def sweep(self) -> SweepResult:
        return await self.client.execute_workflow(
            NOTIFICATION_SWEEP_WORKFLOW,
            SweepInput(self.queue),
            id=f"test-sweep-{uuid.uuid4().hex}",
            task_queue=self.queue,
            result_type=SweepResult,
        )

    async def user_writes(self, chat_id: int, text: str) -> None:
        answer = await self.http.post("/stand-in/updates", json={"chat_id": chat_id, "text": text})
        answer.raise_for_status()

    async def messages(self, chat_id: int) -> list[dict[str, Any]]:
        answer = await self.http.get("/stand-in/messages", params={"chat_id": chat_id})
        return list(answer.json()["messages"])

    async def wait_messages(self, chat_id: int, count: int, within: float = 20) -> list[Any]:
        """The chat's messages once there are `count` of them (polled, never a fixed sleep)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while ((found := await self.messages(chat_id)) and len(found) < count) or not found:
            if loop.time() > deadline:
                raise AssertionError(f"chat {chat_id} has {len(found)} messages, not {count}")
            await asyncio.sleep(0.1)
        return found

    async def wait_until(self, condition: Callable[[], bool], within: float = 20) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not condition():
            if loop.time() > deadline:
                raise AssertionError("the condition never held")
            await asyncio.sleep(0.1)

    def deliveries(self, user_id: uuid.UUID, kind: str | None = None) -> list[Any]:
        with Session(self.ctx.engine) as session:
            query = (
                select(Notification.kind, NotificationDelivery.channel, NotificationDelivery.status)
                .join(
                    NotificationDelivery,
                    col(NotificationDelivery.notification_id) == Notification.id,
                )
                .where(Notification.user_id == user_id)
            )
            if kind is not None:
                query = query.where(Notification.kind == kind)
            return list(session.exec(query).all())

    async def wait_delivery(
        self, user_id: uuid.UUID, kind: str, channel: str, status: str, within: float = 30
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (kind, channel, status) not in self.deliveries(user_id, kind):
            if loop.time() > deadline:
                raise AssertionError(
                    f"{kind} via {channel} not {status}: {self.deliveries(user_id)}"
                )
            await asyncio.sleep(0.1)


def user_of(ctx: ServiceContext, trader_id: uuid.UUID) -> uuid.UUID:
    with Session(ctx.engine) as session:
        return session.exec(select(Trader.user_id).where(Trader.id == trader_id)).one()


def set_aside_earlier(ctx: ServiceContext) -> None:
    """Notifications earlier tests wrote (every pay-in of the suite matched one) are none of
    this test's: marked started, so its sweeps start only its own, whatever ran before."""
    with session_scope(ctx.engine) as session:
        session.connection().execute(
            update(Notification)
            .where(col(Notification.workflow_started_at).is_(None))
            .values(workflow_started_at=utcnow())
        )


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox(port=free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    handler.server = controller
    try:
        yield handler
    finally:
        handler.server.stop()


@pytest.fixture
async def kit(ctx: ServiceContext, temporal_client: Client, inbox: Inbox) -> AsyncIterator[Kit]:
    port = free_port()
    config = uvicorn.Config(
        create_standin_app(), host="127.0.0.1", port=port, log_level="warning",
        lifespan="off",
    )  # fmt: skip
    server = InProcessServer(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(250):
        if server.started:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the Bot API stand-in did not start")
    bot_url = f"http://127.0.0.1:{port}"
    settings = ctx.settings.model_copy(
        update={
            "telegram_api_base_url": bot_url,
            "smtp_port": inbox.port,
            "deadline_warning_seconds": 60,
        }
    )
    ours = dataclasses.replace(ctx, settings=settings)
    set_aside_earlier(ctx)
    queue = f"notify-test-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=32) as executor:
        async with (
            build_worker(temporal_client, ours, queue, executor),
            httpx.AsyncClient(base_url=bot_url) as http,
        ):
            yield Kit(ours, temporal_client, queue, bot_url, http, inbox)
    server.should_exit = True
    await serving
