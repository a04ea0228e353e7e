"""The team lead's page (`/teamlead`): the team, the lead's earnings, each trader's work
status and balances, and the traffic switch. Same services as `/api/teamlead`; a switch is
audited with the lead as actor."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from api.audit import action_of
from api.pages.render import back, page
from api.pages.session import page_role
from core.errors import DomainError
from models.users import Role, User
from processing.teams import lead

router = APIRouter(include_in_schema=False)
PageTeamlead = Annotated[User, Depends(page_role(Role.teamlead))]


@router.get("/teamlead", response_class=HTMLResponse)
async def desk(request: Request, user: PageTeamlead) -> HTMLResponse:
    """My team, my earnings, my traders and their traffic switches."""
    ctx = request.app.state.ctx

    def read() -> dict[str, Any]:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return {"me": lead.lead_me(session, user.id), "traders": lead.traders(session, user.id)}

    return page(request, "teamlead/desk.html", user, **await run_in_threadpool(read))


@router.post("/teamlead/traders/{trader_id}/traffic")
async def switch_traffic(
    request: Request,
    user: PageTeamlead,
    trader_id: uuid.UUID,
    enabled: Annotated[bool, Form()] = False,
) -> Response:
    """Turn a trader's traffic on or off."""
    ctx = request.app.state.ctx

    def save() -> None:
        with Session(ctx.engine) as session:
            session.info["audit_actor"], session.info["audit_action"] = user.id, action_of(request)
            lead.set_traffic(session, user.id, trader_id, enabled)

    try:
        await run_in_threadpool(save)
    except DomainError as exc:  # not my trader
        return back("/teamlead", error=exc.message)
    return back("/teamlead", notice="Traffic on" if enabled else "Traffic off")
