"""Two teams: each lead sees and switches only their own traders, their orders and their
balances; the other team's are 404, exactly like ids that do not exist."""

from __future__ import annotations

import uuid

import httpx

from core.context import ServiceContext
from models.users import Role
from tests.factories import actor
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.teams.team_kit import error_code, make_team, set_traffic


async def test_a_lead_sees_nothing_of_another_team(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    mine = await make_trader(api, ctx, currency)
    theirs = await make_trader(api, ctx, currency, requisites=0)
    team_a = await make_team(api, ctx, admin_headers, [mine.trader_id], share_bps=1000)
    team_b = await make_team(api, ctx, admin_headers, [theirs.trader_id])
    created = await api.post(
        "/api/gateway/payins", json=payin_body(currency), headers=store.headers
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["id"]
    a, b = team_a.lead.headers, team_b.lead.headers

    # Lead A: their trader, with the balance held for the order, and the order.
    listed = (await api.get("/api/teamlead/traders", headers=a)).json()
    assert [t["trader_id"] for t in listed] == [str(mine.trader_id)]
    assert [(c["currency"], c["held"]) for c in listed[0]["collateral"]] == [(currency, "1500.00")]
    page = (await api.get("/api/teamlead/orders", headers=a)).json()
    assert [o["id"] for o in page["items"]] == [order_id]
    assert page["items"][0]["teamlead_share"] == "1.50"  # 10 % of the 1 % reward
    assert "*" in page["items"][0]["requisite"]["number"]  # masked
    me = (await api.get("/api/teamlead/me", headers=a)).json()
    assert me["team"]["id"] == team_a.team_id

    # Lead B: the same ids are 404 — the trader, their traffic, their orders, the order.
    for path in (
        f"/api/teamlead/traders/{mine.trader_id}",
        f"/api/teamlead/orders?trader_id={mine.trader_id}",
        f"/api/teamlead/orders/{order_id}",
    ):
        answer = await api.get(path, headers=b)
        assert answer.status_code == 404, (path, answer.text)
    switched = await set_traffic(api, team_b.lead, mine.trader_id, False)
    assert switched.status_code == 404 and error_code(switched) == "trader_not_found"
    assert (await api.get(f"/api/teamlead/traders/{mine.trader_id}", headers=a)).json()[
        "traffic_enabled"
    ]
    assert [t["trader_id"] for t in (await api.get("/api/teamlead/traders", headers=b)).json()] == [
        str(theirs.trader_id)
    ]
    assert (await api.get("/api/teamlead/orders", headers=b)).json()["items"] == []
    stats = (await api.get("/api/teamlead/stats", headers=b)).json()
    assert stats["rows"] == []
    mine_stats = (await api.get("/api/teamlead/stats", headers=a)).json()["rows"]
    assert [(r["trader_id"], r["orders"], r["completed"]) for r in mine_stats] == [
        (str(mine.trader_id), 1, 0)
    ]
    # Unknown ids answer the same as the other team's.
    unknown = await api.get(f"/api/teamlead/traders/{uuid.uuid4()}", headers=b)
    assert unknown.status_code == 404 and error_code(unknown) == "trader_not_found"

    # A team lead's routes are a team lead's: a trader, or a lead with no team, see nothing.
    assert (await api.get("/api/teamlead/traders", headers=mine.headers)).status_code == 403
    lonely = await actor(api, ctx.engine, Role.teamlead)
    assert (await api.get("/api/teamlead/traders", headers=lonely.headers)).json() == []
    assert (await api.get("/api/teamlead/me", headers=lonely.headers)).json() == {
        "team": None,
        "earnings": [],
    }
    assert (
        await api.get(f"/api/teamlead/orders/{order_id}", headers=lonely.headers)
    ).status_code == 404
    too_long = await api.get("/api/teamlead/stats?since=2024-01-01&until=2025-06-01", headers=a)
    assert too_long.status_code == 422 and error_code(too_long) == "range_too_long"
