"""The demo team for `make run`: team lead `lead1@jivapay.dev` leads "Demo Team" with trader1
and trader2, and earns 20 % of their rewards.

Only what is missing is done, so a second start changes nothing and what an administrator
changed is kept: another share or name, a trader moved to another team. A demo trader in no
team is put back in the demo team.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from core.db import build_engine
from core.settings import Settings
from models.teams import Team
from models.traders import Trader
from models.users import User

LEAD = "lead1"
DEMO_TEAM = "Demo Team"
DEMO_SHARE_BPS = 2000  # 20 % of each of the team's traders' rewards
MEMBERS = ("trader1", "trader2")


def seed_teams(session: Session, users: dict[str, User]) -> None:
    lead_id = users[LEAD].id
    team = session.exec(select(Team).where(Team.lead_user_id == lead_id)).first()
    if team is None:
        team = Team(name=DEMO_TEAM, lead_user_id=lead_id, share_bps=DEMO_SHARE_BPS)
        session.add(team)
        session.flush()
    for name in MEMBERS:
        trader = session.exec(select(Trader).where(Trader.user_id == users[name].id)).first()
        if trader is not None and trader.team_id is None:
            trader.team_id = team.id
            session.add(trader)
    session.flush()


def team_lines(settings: Settings, base: str) -> list[str]:
    """The banner's line on the demo team as it stands (an administrator may have changed it)."""
    engine = build_engine(settings)
    try:
        with Session(engine) as session:
            row = session.exec(
                select(Team, User.email)
                .join(User, col(User.id) == Team.lead_user_id)
                .where(User.email == f"{LEAD}@jivapay.dev")
            ).first()
            members: list[str] = []
            if row is not None:
                query = (
                    select(User.email)
                    .join(Trader, col(Trader.user_id) == User.id)
                    .where(Trader.team_id == row[0].id)
                    .order_by(col(User.email))
                )
                members = [email.split("@")[0] for email in session.exec(query)]
    finally:
        engine.dispose()
    if row is None:
        return []
    team, email = row
    return [
        "",
        f"Team lead:  {email} leads {team.name!r} (traders: {', '.join(members) or 'none'}),"
        f" earns {team.share_bps / 100:g} % of their rewards;",
        f"  page {base}/teamlead; API GET /api/teamlead/traders,"
        ' POST …/traders/{id}/traffic {"enabled": false} (admin: /api/admin/teams)',
    ]
