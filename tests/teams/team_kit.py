"""Teams for tests: a team lead signed in, a team for them made through the admin API, and
traders assigned to it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from core.context import ServiceContext
from models.users import Role
from tests.factories import Actor, actor


@dataclass
class TeamKit:
    team_id: str
    lead: Actor


async def make_team(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    admin: dict[str, str],
    traders: list[uuid.UUID],
    share_bps: int = 0,
) -> TeamKit:
    lead = await actor(api, ctx.engine, Role.teamlead)
    body = {"name": f"Team {uuid.uuid4().hex[:8]}", "lead_user_id": str(lead.user_id)}
    created = await api.post(
        "/api/admin/teams", json={**body, "share_bps": share_bps}, headers=admin
    )
    assert created.status_code == 201, created.text
    team_id = created.json()["id"]
    for trader_id in traders:
        assigned = await assign(api, admin, team_id, trader_id)
        assert assigned.status_code == 200, assigned.text
    return TeamKit(team_id, lead)


async def assign(
    api: httpx.AsyncClient, admin: dict[str, str], team_id: str, trader_id: uuid.UUID
) -> httpx.Response:
    return await api.put(f"/api/admin/teams/{team_id}/traders/{trader_id}", headers=admin)


async def set_traffic(
    api: httpx.AsyncClient, lead: Actor, trader_id: uuid.UUID, enabled: bool
) -> httpx.Response:
    return await api.post(
        f"/api/teamlead/traders/{trader_id}/traffic",
        json={"enabled": enabled},
        headers=lead.headers,
    )


def error_code(response: httpx.Response) -> Any:
    return response.json()["error"]["code"]
