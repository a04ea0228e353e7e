"""Connect analytics test building blocks: users with hand-built bank data and snapshots."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx
import pytest

from connect.snapshots import compute_and_store
from contracts.analytics import SnapshotResult
from core.context import ServiceContext
from models.users import Role
from tests.connect_analytics.bankdata import AS_OF, BankData
from tests.factories import Actor, actor

NewUser = Callable[[], Awaitable[tuple[Actor, BankData]]]


@pytest.fixture
def new_user(api: httpx.AsyncClient, ctx: ServiceContext) -> NewUser:
    """A logged-in Connect user and an empty BankData for them."""

    async def make() -> tuple[Actor, BankData]:
        user = await actor(api, ctx.engine, Role.connect_user)
        return user, BankData(user.user_id)

    return make


def snapshot(ctx: ServiceContext, user: Actor, as_of: datetime = AS_OF) -> SnapshotResult:
    """What the compute_snapshot activity does, with a fixed as_of for worked answers."""
    return compute_and_store(ctx.engine, str(user.user_id), as_of)
