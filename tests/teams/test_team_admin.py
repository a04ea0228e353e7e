"""An administrator makes teams: a team lead's team, the lead's share, its traders. Bad input
is a clear 4xx with a stable code and changes nothing; every change is in the audit log."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlmodel import Session, col, select

from core.context import ServiceContext
from models.audit import AuditEntry
from models.teams import Team
from models.traders import Trader
from models.users import Role
from tests.factories import actor, create_user
from tests.processing.conftest import make_trader, new_currency
from tests.teams.team_kit import assign, error_code, make_team, set_traffic


def team_of(ctx: ServiceContext, trader_id: uuid.UUID) -> uuid.UUID | None:
    with Session(ctx.engine) as session:
        trader = session.get(Trader, trader_id)
        assert trader is not None
        return trader.team_id


async def test_a_trader_is_in_one_team_at_most(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency)
    first = await make_team(api, ctx, admin_headers, [trader.trader_id], share_bps=1000)
    second = await make_team(api, ctx, admin_headers, [])

    again = await assign(api, admin_headers, first.team_id, trader.trader_id)
    assert again.status_code == 200 and again.json()["trader_ids"] == [str(trader.trader_id)]
    taken = await assign(api, admin_headers, second.team_id, trader.trader_id)
    assert taken.status_code == 409 and error_code(taken) == "trader_in_other_team"
    assert taken.json()["error"]["details"] == {"team_id": first.team_id}
    assert team_of(ctx, trader.trader_id) == uuid.UUID(first.team_id)
    listed = (await api.get(f"/api/admin/teams/{second.team_id}", headers=admin_headers)).json()
    assert listed["trader_ids"] == []

    # Out of the first team (the lead had turned traffic off: on again), then into the second.
    assert (await set_traffic(api, first.lead, trader.trader_id, False)).status_code == 200
    wrong = await api.delete(
        f"/api/admin/teams/{second.team_id}/traders/{trader.trader_id}", headers=admin_headers
    )
    assert wrong.status_code == 404 and error_code(wrong) == "trader_not_in_team"
    out = await api.delete(
        f"/api/admin/teams/{first.team_id}/traders/{trader.trader_id}", headers=admin_headers
    )
    assert out.status_code == 200 and out.json()["trader_ids"] == []
    with Session(ctx.engine) as session:
        row = session.get(Trader, trader.trader_id)
        assert row is not None and row.team_id is None and row.traffic_enabled
    moved = await assign(api, admin_headers, second.team_id, trader.trader_id)
    assert moved.status_code == 200 and moved.json()["trader_ids"] == [str(trader.trader_id)]

    missing = await assign(api, admin_headers, second.team_id, uuid.uuid4())
    assert missing.status_code == 404 and error_code(missing) == "trader_not_found"
    no_team = await assign(api, admin_headers, str(uuid.uuid4()), trader.trader_id)
    assert no_team.status_code == 404 and error_code(no_team) == "team_not_found"

    # Each change is audited: who, which route, the trader's team before and after.
    with Session(ctx.engine) as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.target_id == str(trader.trader_id))
            .order_by(col(AuditEntry.at))
        ).all()
    actions = [(e.action, e.before.get("team_id"), e.after.get("team_id")) for e in entries]
    assert actions == [
        ("PUT /api/admin/teams/{team_id}/traders/{trader_id}", None, first.team_id),
        ("POST /api/teamlead/traders/{trader_id}/traffic", None, None),
        ("DELETE /api/admin/teams/{team_id}/traders/{trader_id}", first.team_id, None),
        ("PUT /api/admin/teams/{team_id}/traders/{trader_id}", None, second.team_id),
    ]
    assert entries[1].actor_user_id == first.lead.user_id
    assert (entries[1].before, entries[1].after["traffic_enabled"]) == (
        {"traffic_enabled": True, "traffic_changed_at": None},
        False,
    )


async def test_bad_team_input_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    trader_user = create_user(ctx.engine, Role.trader)
    lead = await actor(api, ctx.engine, Role.teamlead)
    # An administrator creates team lead accounts like any other staff account.
    made_lead = await api.post(
        "/api/admin/users",
        json={"email": f"lead-{uuid.uuid4().hex[:8]}@example.com", "role": "teamlead"},
        headers=admin_headers,
    )
    assert made_lead.status_code == 201 and made_lead.json()["role"] == "teamlead", made_lead.text
    name = f"Team {uuid.uuid4().hex[:8]}"

    async def create(body: dict[str, Any]) -> httpx.Response:
        return await api.post("/api/admin/teams", json=body, headers=admin_headers)

    for lead_user_id in (trader_user.id, uuid.uuid4()):
        refused = await create({"name": name, "lead_user_id": str(lead_user_id)})
        assert refused.status_code == 422 and error_code(refused) == "not_a_teamlead"
    for share in (-1, 10_001, 2.5, "100", True):
        refused = await create(
            {"name": name, "lead_user_id": str(lead.user_id), "share_bps": share}
        )
        assert refused.status_code == 422 and error_code(refused) == "validation_error", share
    with Session(ctx.engine) as session:
        assert session.exec(select(Team).where(Team.name == name)).first() is None

    made = await create({"name": name, "lead_user_id": str(lead.user_id), "share_bps": 10_000})
    assert made.status_code == 201, made.text
    team = made.json()
    assert (team["share_bps"], team["lead_email"]) == (10_000, lead.email)
    twice = await create({"name": f"{name}-2", "lead_user_id": str(lead.user_id)})
    assert twice.status_code == 409 and error_code(twice) == "lead_has_team"
    other_lead = await actor(api, ctx.engine, Role.teamlead)
    same_name = await create({"name": name, "lead_user_id": str(other_lead.user_id)})
    assert same_name.status_code == 409 and error_code(same_name) == "team_name_taken"

    path = f"/api/admin/teams/{team['id']}"
    for value in (10_001, None, -5):
        refused = await api.patch(path, json={"share_bps": value}, headers=admin_headers)
        assert refused.status_code == 422, (value, refused.text)
    changed = await api.patch(path, json={"share_bps": 2500}, headers=admin_headers)
    assert changed.status_code == 200 and changed.json()["share_bps"] == 2500
    with Session(ctx.engine) as session:
        audited = session.exec(
            select(AuditEntry)
            .where(AuditEntry.target_id == team["id"])
            .order_by(col(AuditEntry.at))
        ).all()
    assert [(e.before.get("share_bps"), e.after.get("share_bps")) for e in audited] == [
        (None, 10_000),
        (10_000, 2500),
    ]

    # Only administrators manage teams; a team lead is not one.
    denied = await api.post(
        "/api/admin/teams",
        json={"name": "mine", "lead_user_id": str(lead.user_id)},
        headers=lead.headers,
    )
    assert denied.status_code == 403
