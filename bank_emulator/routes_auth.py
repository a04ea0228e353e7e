"""`POST /auth/bank-token` (the team's token) and `POST /auth/login` (an end user's token)."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from bank_emulator.security import StateDep, issue_token

router = APIRouter(tags=["auth"])


class LoginRequest(BaseModel):
    username: str
    password: str


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


@router.post("/auth/bank-token")
async def bank_token(
    state: StateDep,
    client_id: Annotated[str, Query()],
    client_secret: Annotated[str, Query()],
) -> dict[str, Any]:
    """Issue the team's bank token; credentials come as query parameters."""
    state.stats["token_requests"] += 1
    if client_id != state.config.team_client_id:
        raise HTTPException(401, "Invalid client_id")
    if not _same(client_secret, state.config.team_client_secret.get_secret_value()):
        raise HTTPException(401, "Invalid client_secret")
    state.stats["tokens_issued"] += 1
    return {
        "access_token": issue_token(state, client_id, "bank"),
        "token_type": "bearer",
        "client_id": client_id,
        "algorithm": "HS256",
        "expires_in": state.config.token_ttl_seconds,
    }


@router.post("/auth/login")
async def login(state: StateDep, body: LoginRequest) -> dict[str, Any]:
    """Log in as an end user (sandbox: the password is the team secret)."""
    state.stats["logins"] += 1
    password_ok = _same(body.password, state.config.team_client_secret.get_secret_value())
    if not state.is_known_client(body.username) or not password_ok:
        raise HTTPException(401, "Invalid username or password")
    return {
        "access_token": issue_token(state, body.username, "client"),
        "token_type": "bearer",
        "client_id": body.username,
        "expires_in": state.config.token_ttl_seconds,
    }
