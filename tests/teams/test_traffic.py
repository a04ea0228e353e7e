"""A team lead turns a trader's traffic off: no new pay-in is matched to them (another
trader takes it, or none is left: `no_requisite`, the rejection says why); the trader sees
it on their profile and desk. On again: matched again."""

from __future__ import annotations

import httpx

from api.pages.session import COOKIE
from core.context import ServiceContext
from tests.processing.conftest import make_store, make_trader, new_currency, payin_body
from tests.teams.team_kit import make_team, set_traffic


async def test_traffic_off_skips_the_trader_in_matching(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency)
    lead_trader = await make_trader(api, ctx, currency)
    team = await make_team(api, ctx, admin_headers, [lead_trader.trader_id])

    async def payin() -> dict:
        created = await api.post(
            "/api/gateway/payins", json=payin_body(currency, "100.00"), headers=store.headers
        )
        assert created.status_code in (201, 422), created.text
        body: dict = created.json()
        return body.get("error", {}).get("details") or body

    off = await set_traffic(api, team.lead, lead_trader.trader_id, False)
    assert off.status_code == 200 and off.json()["traffic_enabled"] is False
    me = (await api.get("/api/trader/me", headers=lead_trader.headers)).json()
    assert me["traffic_enabled"] is False and me["traffic_changed_at"]
    # The desk page (its session cookie is the same token) says so.
    token = lead_trader.headers["Authorization"].removeprefix("Bearer ")
    desk = await api.get("/trader", headers={"Cookie": f"{COOKIE}={token}"})
    assert desk.status_code == 200, desk.text
    assert "Your team lead turned your traffic off" in desk.text

    # Nobody else works in this currency: nothing matches, and the report says why.
    failed = await payin()
    assert (failed["status"], failed["failure_reason"]) == ("failed", "no_requisite")
    report = await api.get(
        f"/api/admin/orders/{failed['order_id']}/match-report", headers=admin_headers
    )
    assert [r["reason"] for r in report.json()["rejections"]] == ["traffic_off_by_teamlead"]

    # Another trader works: the pay-in goes to them.
    other = await make_trader(api, ctx, currency)
    to_other = await payin()
    assert to_other["status"] == "awaiting_payment"
    assert [
        o["id"] for o in (await api.get("/api/trader/orders", headers=other.headers)).json()
    ] == [to_other["id"]]
    assert (await api.get("/api/trader/orders", headers=lead_trader.headers)).json() == []

    # Traffic on again (and the other trader offline): matched to the lead's trader.
    assert (await api.post("/api/trader/offline", headers=other.headers)).status_code == 200
    on = await set_traffic(api, team.lead, lead_trader.trader_id, True)
    assert on.status_code == 200 and on.json()["traffic_enabled"] is True
    back = await payin()
    assert back["status"] == "awaiting_payment"
    mine = (await api.get("/api/trader/orders", headers=lead_trader.headers)).json()
    assert [o["id"] for o in mine] == [back["id"]]
    page = await api.get("/trader", headers={"Cookie": f"{COOKIE}={token}"})
    assert "traffic off" not in page.text
