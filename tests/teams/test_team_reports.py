"""The turnover report by team: the team an order was fixed to, the lead's shares read off
the ledger (the lead's own account), and a team lead's report of their team only."""

from __future__ import annotations

from typing import Any

import httpx

from core.context import ServiceContext
from models.amounts import format_minor
from models.ledger import AccountKind
from models.users import Role
from tests.factories import actor
from tests.money.fx_kit import account
from tests.processing.conftest import make_store, make_trader, new_currency
from tests.teams.team_kit import error_code, make_team
from tests.teams.test_teamlead_share import _confirm, _payin


async def report(api: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    answer = await api.get(f"/api/{path}/reports/turnover", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_turnover_by_team_and_a_leads_own_report(
    api: httpx.AsyncClient, ctx: ServiceContext, worker: None, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    store = make_store(ctx, currency, payin_fee_bps=300)
    trader = await make_trader(api, ctx, currency)
    team = await make_team(api, ctx, admin_headers, [trader.trader_id], share_bps=2500)
    for amount in ("1000.00", "333.33"):
        await _confirm(api, admin_headers, await _payin(api, store.headers, currency, amount))
    earned, _ = account(ctx, AccountKind.teamlead, team.lead.user_id, currency)
    assert earned > 0

    by_team = await report(api, "admin", admin_headers, group_by="team", currency=currency)
    [row] = by_team["rows"]
    assert row["group"] == {"team": team.team_id}
    assert row["orders"] == 2
    assert row["teamlead_shares"] == format_minor(earned, currency)
    assert row["volume"] == "1333.33"

    mine = await report(api, "teamlead", team.lead.headers, currency=currency)
    assert [t["teamlead_shares"] for t in mine["totals"]] == [format_minor(earned, currency)]
    assert mine["totals"][0]["orders"] == 2

    # Another team's lead sees none of it, nor does the admin's report of that team.
    other = await make_team(api, ctx, admin_headers, [])
    assert (await report(api, "teamlead", other.lead.headers, currency=currency))["rows"] == []
    theirs = await report(api, "admin", admin_headers, currency=currency, team_id=other.team_id)
    assert theirs["rows"] == []
    # A lead without a team has no report; a trader has no team-lead report at all.
    lone = await actor(api, ctx.engine, Role.teamlead)
    answer = await api.get("/api/teamlead/reports/turnover", headers=lone.headers)
    assert answer.status_code == 404 and error_code(answer) == "team_not_found", answer.text
    refused = await api.get("/api/teamlead/reports/turnover", headers=trader.headers)
    assert refused.status_code == 403, refused.text
