"""Bank and client JWTs, and the FastAPI dependencies that check them.

Each bank signs with its own secret and puts its code in `iss`, so a token issued by one bank
is refused by the others, as the real sandbox does.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

import jwt
from fastapi import Depends, Header, HTTPException, Request

from bank_emulator.state import BankState

ALGORITHM = "HS256"


def get_state(request: Request) -> BankState:
    state: BankState = request.app.state.bank
    return state


StateDep = Annotated[BankState, Depends(get_state)]


def issue_token(state: BankState, subject: str, kind: str) -> str:
    """A signed token for the team ("bank") or for one end user ("client")."""
    now = int(time.time())
    jti = secrets.token_hex(8)
    claims = {
        "sub": subject,
        "type": kind,
        "iss": state.config.code,
        "iat": now,
        "exp": now + state.config.token_ttl_seconds,
        "jti": jti,
    }
    with state.lock:
        state.issued_jtis.add(jti)
    return jwt.encode(claims, state.config.token_secret.get_secret_value(), algorithm=ALGORITHM)


def decode_token(state: BankState, token: str, kind: str) -> dict[str, Any] | None:
    """The claims of a live token of this bank and kind, or None."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            state.config.token_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=state.config.code,
            options={"require": ["exp", "sub", "jti", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("type") != kind or claims["jti"] in state.revoked_jtis:
        return None
    return claims


def expire_all_tokens(state: BankState) -> int:
    with state.lock:
        state.revoked_jtis |= state.issued_jtis
        return len(state.issued_jtis)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def _require(state: BankState, authorization: str | None, kind: str) -> str:
    claims = decode_token(state, _bearer(authorization), kind)
    if claims is None:
        raise HTTPException(401, "Invalid or expired token", headers={"WWW-Authenticate": "Bearer"})
    return str(claims["sub"])


def bank_token_subject(
    state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The team client_id of a valid bank token."""
    return _require(state, authorization, "bank")


def client_token_subject(
    state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The end-user client id of a valid client token (from /auth/login)."""
    return _require(state, authorization, "client")


def any_token_subject(
    state: StateDep, authorization: Annotated[str | None, Header()] = None
) -> tuple[str, str]:
    """(kind, subject) of a valid bank or client token."""
    token = _bearer(authorization)
    for kind in ("client", "bank"):
        claims = decode_token(state, token, kind)
        if claims is not None:
            return kind, str(claims["sub"])
    raise HTTPException(401, "Invalid or expired token", headers={"WWW-Authenticate": "Bearer"})


def require_admin(
    state: StateDep, x_emulator_admin: Annotated[str | None, Header()] = None
) -> None:
    expected = state.config.admin_token.get_secret_value()
    if not secrets.compare_digest((x_emulator_admin or "").encode(), expected.encode()):
        raise HTTPException(403, "Admin token required")


BankTokenDep = Annotated[str, Depends(bank_token_subject)]
ClientTokenDep = Annotated[str, Depends(client_token_subject)]
AnyTokenDep = Annotated[tuple[str, str], Depends(any_token_subject)]
