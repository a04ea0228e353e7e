"""The team lead's page: signing in leads there; it shows the team, the share and each
trader with their traffic switch; the switch works from the page (with its CSRF token) and
is audited; another team's trader cannot be switched from it."""

from __future__ import annotations

import httpx
from sqlmodel import Session, col, select

from api.pages.session import COOKIE
from core.context import ServiceContext
from models.audit import AuditEntry
from models.traders import Trader
from models.users import User
from tests.factories import page_login
from tests.processing.conftest import TraderKit, make_trader, new_currency
from tests.teams.team_kit import make_team


async def test_the_lead_switches_traffic_from_the_page(
    api: httpx.AsyncClient, ctx: ServiceContext, admin_headers: dict[str, str]
) -> None:
    currency = new_currency(ctx)
    trader = await make_trader(api, ctx, currency)
    stranger = await make_trader(api, ctx, currency, requisites=0)
    team = await make_team(api, ctx, admin_headers, [trader.trader_id], share_bps=2000)
    await make_team(api, ctx, admin_headers, [stranger.trader_id])

    signed_in = await page_login(api, team.lead.email)  # the password, then the code
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/teamlead")
    form = await api.get("/login")
    csrf = form.text.split('name="csrftoken" value="', 1)[1].split('"', 1)[0]
    # Sent by hand: the suite's cookies are Secure and this is plain http.
    csrf_cookie = f"csrftoken={form.cookies['csrftoken']}"

    token = team.lead.headers["Authorization"].removeprefix("Bearer ")
    cookies = {"cookie": f"{csrf_cookie}; {COOKIE}={token}"}
    desk = await api.get("/teamlead", headers=cookies)
    assert desk.status_code == 200, desk.text
    assert "You earn 20 % of your traders' rewards" in desk.text
    assert "Turn traffic off" in desk.text
    with Session(ctx.engine) as session:
        emails = {
            kit.trader_id: session.exec(
                select(User.email)
                .join(Trader, col(Trader.user_id) == User.id)
                .where(Trader.id == kit.trader_id)
            ).one()
            for kit in (trader, stranger)
        }
    assert emails[trader.trader_id] in desk.text and emails[stranger.trader_id] not in desk.text

    async def switch_off(kit: TraderKit) -> tuple[str, bool]:
        """The page's answer (where it sends the browser) and the trader's switch after it."""
        answer = await api.post(
            f"/teamlead/traders/{kit.trader_id}/traffic",
            data={"enabled": "false", "csrftoken": csrf},
            headers=cookies,
        )
        assert answer.status_code == 303, answer.text
        me = (await api.get("/api/trader/me", headers=kit.headers)).json()
        return answer.headers["location"], me["traffic_enabled"]

    location, enabled = await switch_off(trader)
    assert "notice=Traffic" in location and enabled is False
    assert "Turn traffic on" in (await api.get("/teamlead", headers=cookies)).text
    with Session(ctx.engine) as session:
        # The switch's own row (the admin's assignment is audited on the trader too; rows
        # come back in no particular order without one).
        [entry] = session.exec(
            select(AuditEntry).where(
                AuditEntry.target_id == str(trader.trader_id),
                AuditEntry.action == "POST /teamlead/traders/{trader_id}/traffic",
            )
        ).all()
    assert entry.actor_user_id == team.lead.user_id
    assert (entry.before["traffic_enabled"], entry.after["traffic_enabled"]) == (True, False)

    # Another team's trader: refused, unchanged.
    location, enabled = await switch_off(stranger)
    assert "error=" in location and enabled is True
