from __future__ import annotations

import httpx
import pytest

from core.context import ServiceContext
from models.users import Role
from tests.factories import create_user, login


@pytest.fixture
async def admin_headers(api: httpx.AsyncClient, ctx: ServiceContext) -> dict[str, str]:
    return await login(api, create_user(ctx.engine, Role.admin).email)
