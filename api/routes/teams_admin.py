"""Administration of teams: a team for a team lead, its share of the traders' rewards, and
which traders are in it (a trader is in at most one team)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from api.deps import CurrentStaff, SessionDep, StaffManager
from models.teams import TeamCreate, TeamPublic, TeamUpdate
from processing.teams import admin

router = APIRouter()


@router.post(
    "/teams",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamPublic,
    responses={
        409: {"description": "`lead_has_team` or `team_name_taken`"},
        422: {"description": "`not_a_teamlead`: the lead is no user with the teamlead role"},
    },
)
def create_team(body: TeamCreate, session: SessionDep, _: StaffManager) -> TeamPublic:
    """Create a team led by a team lead (who leads no other team), with the lead's share."""
    return admin.create_team(session, body)


@router.get("/teams", response_model=list[TeamPublic])
def list_teams(session: SessionDep, _: CurrentStaff) -> list[TeamPublic]:
    """Every team with its lead, share and traders, by name."""
    return admin.teams(session)


@router.get("/teams/{team_id}", response_model=TeamPublic)
def get_team(team_id: uuid.UUID, session: SessionDep, _: CurrentStaff) -> TeamPublic:
    """One team."""
    return admin.team_public(session, admin.team_or_404(session, team_id))


@router.patch(
    "/teams/{team_id}",
    response_model=TeamPublic,
    responses={409: {"description": "`team_name_taken`"}},
)
def update_team(
    team_id: uuid.UUID, body: TeamUpdate, session: SessionDep, _: StaffManager
) -> TeamPublic:
    """Rename the team or change the lead's share (orders already matched keep theirs)."""
    return admin.update_team(session, team_id, body)


@router.put(
    "/teams/{team_id}/traders/{trader_id}",
    response_model=TeamPublic,
    responses={409: {"description": "`trader_in_other_team`: unassign the trader there first"}},
)
def assign_trader(
    team_id: uuid.UUID, trader_id: uuid.UUID, session: SessionDep, _: StaffManager
) -> TeamPublic:
    """Put a trader in the team."""
    return admin.assign_trader(session, team_id, trader_id)


@router.delete("/teams/{team_id}/traders/{trader_id}", response_model=TeamPublic)
def unassign_trader(
    team_id: uuid.UUID, trader_id: uuid.UUID, session: SessionDep, _: StaffManager
) -> TeamPublic:
    """Take a trader out of the team (their traffic is on again)."""
    return admin.unassign_trader(session, team_id, trader_id)
