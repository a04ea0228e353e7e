"""Page sessions: the same JWT as the API, in an HttpOnly cookie; CSRF on every form.

Cookie-authenticated requests that change something must carry the CSRF token (asgi-csrf's
double-submit cookie: a form field or the `x-csrftoken` header that htmx sends). The JSON
API under `/api/` never reads the cookie, so it needs no CSRF protection.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Annotated, Any
from urllib.parse import quote

from asgi_csrf import asgi_csrf
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

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


class WrongRole(Exception):
    """Signed in, but this page belongs to another role (the same 403 as the API)."""


class _PagePaths:
    """asgi-csrf lets a POST with no cookie at all through, unless its path is "always
    protected": every page path is. Signing in and up come with no cookie yet, and without a
    token another site could sign a visitor into an account of its choosing."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not path.startswith("/api/")


def protect_forms(app: ASGIApp, settings: Settings) -> ASGIApp:
    protected: ASGIApp = asgi_csrf(
        app,
        signing_secret=settings.jwt_secrets[0],
        cookie_secure=settings.environment != "development",
        always_protect=_PagePaths(),
        skip_if_scope=lambda scope: scope["path"].startswith("/api/"),
    )

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if _upload_without_header_token(scope):
            refused = PlainTextResponse(UPLOAD_NEEDS_HEADER, status_code=403)
            await refused(scope, receive, send)
            return
        await protected(scope, receive, send)

    return guarded


# asgi-csrf 0.11 cannot read a token out of a multipart body with python-multipart ≥ 0.0.26
# (simonw/asgi-csrf#38; older python-multipart has CVEs): a page upload carries the token in
# the `x-csrftoken` header (htmx sends it), and one without it is refused here, before the
# broken parser could turn it into a 500.
UPLOAD_NEEDS_HEADER = "Uploads send the CSRF token in the x-csrftoken header (enable JavaScript)"


def _upload_without_header_token(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST":
        return False
    if scope["path"].startswith("/api/"):
        return False
    headers = dict(scope.get("headers") or [])
    if not headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
        return False
    cookie = SimpleCookie(headers.get(b"cookie", b"").decode("latin-1"))
    expected = cookie["csrftoken"].value if "csrftoken" in cookie else ""
    sent = headers.get(b"x-csrftoken", b"").decode("latin-1")
    return not (expected and secrets.compare_digest(sent, expected))


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
        secure=settings.environment != "development",
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
    request.state.user_id = str(user.id)  # the request's log line names who asked
    if user.password_change_required and request.url.path != PASSWORD_PAGE:
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


PageTrader = Annotated[User, Depends(page_role(Role.trader))]
PageMerchant = Annotated[User, Depends(page_role(Role.merchant))]
PageConnectUser = Annotated[User, Depends(page_role(Role.connect_user))]
PageStaff = Annotated[User, Depends(page_allowed(Permission.read))]
PageAny = Annotated[User, Depends(page_user)]
Context = dict[str, Any]
