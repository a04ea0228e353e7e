"""The administrator's side of teams: create a team for a team lead, change its name or
share, assign and unassign traders.

Every refusal is checked before anything is written, and each change is one commit in the
request's session (the audit hook records it in the same transaction). A trader's row is
locked before its team is read, so two assignments of one trader never both succeed.
"""

from __future__ import annotations

import uuid

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.errors import Conflict, Invalid, NotFound
from models.base import utcnow
from models.teams import Team, TeamCreate, TeamPublic, TeamUpdate
from models.traders import Trader
from models.users import Role, User
from processing.accounts.admin import sent_fields

NOT_A_TEAMLEAD = "not_a_teamlead"
LEAD_HAS_TEAM = "lead_has_team"
TEAM_NAME_TAKEN = "team_name_taken"
TRADER_IN_OTHER_TEAM = "trader_in_other_team"


def team_public(session: Session, team: Team) -> TeamPublic:
    lead = session.get(User, team.lead_user_id)
    assert lead is not None
    members = session.exec(
        select(Trader.id).where(Trader.team_id == team.id).order_by(col(Trader.created_at))
    ).all()
    return TeamPublic(
        **team.model_dump(exclude={"created_at", "updated_at"}),
        lead_email=lead.email,
        trader_ids=list(members),
        created_at=team.created_at,
        updated_at=team.updated_at,
    )


def team_or_404(session: Session, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("Team not found", code="team_not_found")
    return team


def _check_name(session: Session, name: str, team_id: uuid.UUID | None = None) -> None:
    query = select(Team.id).where(Team.name == name)
    if team_id is not None:
        query = query.where(Team.id != team_id)
    if session.exec(query).first() is not None:
        raise Conflict("A team of this name exists", code=TEAM_NAME_TAKEN)


def create_team(session: Session, body: TeamCreate) -> TeamPublic:
    """A team led by a `teamlead` user who leads no other team (422 `not_a_teamlead`, 409
    `lead_has_team`, 409 `team_name_taken`)."""
    lead = session.get(User, body.lead_user_id)
    if lead is None or lead.role != Role.teamlead:
        raise Invalid(
            "The lead must be an existing user with the teamlead role",
            code=NOT_A_TEAMLEAD,
            details={"lead_user_id": str(body.lead_user_id)},
        )
    if session.exec(select(Team.id).where(Team.lead_user_id == lead.id)).first() is not None:
        raise Conflict("This team lead leads a team already", code=LEAD_HAS_TEAM)
    _check_name(session, body.name)
    team = Team(name=body.name, lead_user_id=lead.id, share_bps=body.share_bps)
    session.add(team)
    _commit(session)
    return team_public(session, team)


def update_team(session: Session, team_id: uuid.UUID, body: TeamUpdate) -> TeamPublic:
    """A new name or share; orders already matched keep the share they fixed."""
    team = team_or_404(session, team_id)
    changes = sent_fields(Team, body)
    if "name" in changes:
        _check_name(session, changes["name"], team.id)
    if changes:
        team.sqlmodel_update(changes)
        team.updated_at = utcnow()
        session.add(team)
        _commit(session)
    return team_public(session, team)


def _commit(session: Session) -> None:
    """Commit; a unique key lost to a concurrent request is the same 409 as checked before."""
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("The team's name or lead is taken", code=TEAM_NAME_TAKEN) from exc


def _locked_trader(session: Session, trader_id: uuid.UUID) -> Trader:
    """The trader row, locked for this transaction (on SQLite a write takes the database's
    write lock first, as `lock_order` does), read fresh."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Trader).where(col(Trader.id) == trader_id).values(id=Trader.id))
    trader = session.exec(
        select(Trader)
        .where(Trader.id == trader_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if trader is None:
        session.rollback()
        raise NotFound("Trader not found", code="trader_not_found")
    return trader


def assign_trader(session: Session, team_id: uuid.UUID, trader_id: uuid.UUID) -> TeamPublic:
    """Put a trader in the team (again: no change); in another team: 409
    `trader_in_other_team`, nothing changed."""
    team = team_or_404(session, team_id)
    trader = _locked_trader(session, trader_id)
    if trader.team_id is not None and trader.team_id != team.id:
        session.rollback()
        raise Conflict(
            "The trader is in another team; unassign them there first",
            code=TRADER_IN_OTHER_TEAM,
            details={"team_id": str(trader.team_id)},
        )
    if trader.team_id != team.id:
        trader.team_id = team.id
        session.add(trader)
    session.commit()
    return team_public(session, team)


def unassign_trader(session: Session, team_id: uuid.UUID, trader_id: uuid.UUID) -> TeamPublic:
    """Take a trader out of the team (404 `trader_not_in_team` when not in it). The lead's
    traffic switch goes with the team: the trader's traffic is on again."""
    team = team_or_404(session, team_id)
    trader = _locked_trader(session, trader_id)
    if trader.team_id != team.id:
        session.rollback()
        raise NotFound("The trader is not in this team", code="trader_not_in_team")
    trader.team_id = None
    if not trader.traffic_enabled:
        trader.traffic_enabled, trader.traffic_changed_at = True, utcnow()
    session.add(trader)
    session.commit()
    return team_public(session, team)


def teams(session: Session) -> list[TeamPublic]:
    rows = session.exec(select(Team).order_by(col(Team.name))).all()
    return [team_public(session, team) for team in rows]
