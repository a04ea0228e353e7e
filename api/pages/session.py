"""Page sessions: the same JWT as the API, in an HttpOnly cookie (CSRF: `api.pages.csrf`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.responses import Response

from core.permissions import Permission, allows
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
    Role.teamlead: "/teamlead",
    Role.finance: "/admin",
}


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page (and back afterwards)."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """Signed in with a one-time password: every page leads to the password form first."""


PASSWORD_PAGE = "/password"  # noqa: S105 - a page path, not a secret
# Recovery codes are shown once, right after enrolment: even before the password is changed.
CODES_PAGE = "/account/mfa/codes"


class WrongRole(Exception):
    """Signed in, but this page belongs to another role (the same 403 as the API)."""


def csrf_token(request: Request) -> str:
    # A 500 page is rendered outside the CSRF middleware: no token there (and no form needs it).
    getter = request.scope.get("csrftoken")
    return str(getter()) if getter else ""


def sign_in(response: Response, settings: Settings, user: User) -> None:
    response.set_cookie(
        COOKIE,
        create_access_token(settings, user.id, user.role.value),
        max_age=settings.jwt_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.environment != "development",
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(COOKIE)


async def page_user(request: Request) -> User:
    ctx = request.app.state.ctx
    token = request.cookies.get(COOKIE)
    target = current_page(request)
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
    request.state.user_id = str(user.id)  # the request's log line names who asked
    if user.password_change_required and request.url.path not in (PASSWORD_PAGE, CODES_PAGE):
        raise PasswordChangeRequired()
    return user


def page_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    async def check(user: Annotated[User, Depends(page_user)]) -> User:
        if user.role not in roles:
            raise WrongRole(user.role.value)
        return user

    return check


def page_allowed(permission: Permission) -> Callable[[User], Awaitable[User]]:
    """The pages' side of `api.deps.require`: the same permissions, a 403 page instead."""

    async def check(user: Annotated[User, Depends(page_user)]) -> User:
        if not allows(user.role.value, permission):
            raise WrongRole(user.role.value)
        return user

    check.permission = permission  # type: ignore[attr-defined]
    return check


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='')}"


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: an open redirect would let a link
    send people anywhere. Browsers read `\\` as `/` (`/\\evil.example` is another host) and
    drop tabs and newlines, so those are refused as well as a scheme or a host."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def current_page(request: Request) -> str:
    """The page the person is on: for an htmx request the page that sent it (`HX-Current-URL`),
    not the fragment; otherwise the requested path itself."""
    if request.headers.get("hx-request"):
        sent = urlsplit(request.headers.get("hx-current-url", ""))
        shown = sent.path + (f"?{sent.query}" if sent.query else "")
        return local_path(shown) or "/"
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


PageTrader = Annotated[User, Depends(page_role(Role.trader))]
PageMerchant = Annotated[User, Depends(page_role(Role.merchant))]
PageConnectUser = Annotated[User, Depends(page_role(Role.connect_user))]
PageStaff = Annotated[User, Depends(page_allowed(Permission.read))]
PageAny = Annotated[User, Depends(page_user)]
Context = dict[str, Any]
