"""Page sessions: the same JWT as the API, in an HttpOnly cookie; CSRF on every form.

Cookie-authenticated requests that change something must carry the CSRF token (asgi-csrf's
double-submit cookie: a form field or the `x-csrftoken` header that htmx sends). The JSON
API under `/api/` never reads the cookie, so it needs no CSRF protection.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote

from asgi_csrf import asgi_csrf
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.responses import Response
from starlette.types import ASGIApp

from core.security import InvalidTokenError, create_access_token, decode_access_token
from core.settings import Settings
from models.users import Role, User

COOKIE = "jivapay_session"
HOME = {
    Role.trader: "/trader",
    Role.merchant: "/merchant",
    Role.connect_user: "/app",
    Role.admin: "/admin",
    Role.support: "/admin",
}


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page (and back afterwards)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """Signed in with a one-time password: every page leads to the password form first."""


PASSWORD_PAGE = "/password"  # noqa: S105 - a page path, not a secret


class WrongRole(Exception):
    """Signed in, but this page belongs to another role (the same 403 as the API)."""


def protect_forms(app: ASGIApp, settings: Settings) -> ASGIApp:
    protected: ASGIApp = asgi_csrf(
        app,
        signing_secret=settings.jwt_secrets[0],
        cookie_secure=settings.environment == "production",
        skip_if_scope=lambda scope: scope["path"].startswith("/api/"),
    )
    return protected


def csrf_token(request: Request) -> str:
    token: str = request.scope["csrftoken"]()
    return token


def sign_in(response: Response, settings: Settings, user: User) -> None:
    response.set_cookie(
        COOKIE,
        create_access_token(settings, user.id, user.role.value),
        max_age=settings.jwt_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE)


async def page_user(request: Request) -> User:
    ctx = request.app.state.ctx
    token = request.cookies.get(COOKIE)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not token:
        raise LoginRequired(target)
    try:
        claims = decode_access_token(ctx.settings, token)
    except InvalidTokenError as exc:
        raise LoginRequired(target) from exc

    def load() -> User | None:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return session.get(User, claims.user_id)

    user = await run_in_threadpool(load)
    if user is None or not user.is_active:
        raise LoginRequired(target)
    if user.password_change_required and request.url.path != PASSWORD_PAGE:
        raise PasswordChangeRequired()
    return user


def page_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    async def check(user: Annotated[User, Depends(page_user)]) -> User:
        if user.role not in roles:
            raise WrongRole(user.role.value)
        return user

    return check


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='')}"


PageTrader = Annotated[User, Depends(page_role(Role.trader))]
PageMerchant = Annotated[User, Depends(page_role(Role.merchant))]
PageConnectUser = Annotated[User, Depends(page_role(Role.connect_user))]
PageStaff = Annotated[User, Depends(page_role(Role.admin, Role.support))]
PageAny = Annotated[User, Depends(page_user)]
Context = dict[str, Any]
