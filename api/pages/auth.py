"""Sign in, sign up (Connect users) and sign out, with the API's rules (`api.accounts`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.accounts import LoginRefused, check_login, register_connect_user
from api.pages import mfa
from api.pages.forms import field_errors
from api.pages.mfa import safe_next
from api.pages.render import back, page
from api.pages.session import (
    HOME,
    PASSWORD_PAGE,
    LoginRequired,
    PageAny,
    PasswordChangeRequired,
    local_path,
    page_user,
    sign_in,
    sign_out,
)
from api.ratelimit import client_ip
from api.second_factor import next_step
from core.errors import DomainError
from models.users import PasswordChange, User, UserRegister
from processing.accounts import users

router = APIRouter(include_in_schema=False)
# The second factor's pages: the code after the password, enrolment, recovery codes.
router.include_router(mfa.router)


@router.get("/")
async def root(request: Request) -> Response:
    """Each role's home page, or the sign-in page."""
    try:
        user = await page_user(request)
    except LoginRequired:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(HOME.get(user.role, "/login"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "") -> Response:
    """The sign-in page (someone still signed in goes straight on to `next`)."""
    try:
        user = await page_user(request)
    except (LoginRequired, PasswordChangeRequired):
        return page(request, "login.html", None, next=local_path(next) or "")
    return RedirectResponse(safe_next(next, user), status_code=303)


@router.post("/login")
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=128)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Check the credentials and set the session cookie."""
    ctx = request.app.state.ctx
    limits = request.app.state.rate_limits
    try:
        user = await check_login(
            ctx.engine, limits, email=email, password=password, ip=client_ip(request)
        )
    except LoginRefused as exc:
        answer = page(
            request,
            "login.html",
            None,
            status_code=exc.status,
            next=next,
            error=exc.message,
            email=email,
        )
        if exc.retry_after_s:
            answer.headers["Retry-After"] = str(exc.retry_after_s)
        return answer
    step = await run_in_threadpool(next_step, ctx.engine, user)
    if step is not None:
        return await mfa.second_step(request, user, step, next)
    response = RedirectResponse(safe_next(next, user), status_code=303)
    sign_in(response, ctx.settings, user)
    return response


@router.get("/register", response_class=HTMLResponse)
async def register_form(request: Request) -> HTMLResponse:
    """Sign up for Connect."""
    return page(request, "register.html", None)


@router.post("/register")
async def register(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=128)],
    full_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create the Connect user and sign them in."""
    ctx = request.app.state.ctx
    try:
        body = UserRegister(email=email, password=password, full_name=full_name or None)
    except ValidationError as exc:
        typed = {"email": email, "full_name": full_name}
        problems = field_errors(exc)
        return page(request, "register.html", None, status_code=422, problems=problems, **typed)

    def create() -> User:
        with Session(ctx.engine, expire_on_commit=False) as session:
            return register_connect_user(session, body=body)

    try:
        user = await run_in_threadpool(create)
    except DomainError as exc:
        problems = {"email": exc.message}
        typed = {"email": email, "full_name": full_name}
        return page(request, "register.html", None, status_code=409, problems=problems, **typed)
    response = RedirectResponse("/app", status_code=303)
    sign_in(response, ctx.settings, user)
    return response


@router.get(PASSWORD_PAGE, response_class=HTMLResponse)
async def password_form(request: Request, user: PageAny) -> HTMLResponse:
    """Change the password (the first thing an account with a one-time password sees)."""
    return page(request, "password.html", user)


@router.post(PASSWORD_PAGE)
async def password(
    request: Request,
    user: PageAny,
    current_password: Annotated[str, Form(max_length=128)],
    new_password: Annotated[str, Form(max_length=128)],
) -> Response:
    """Check the current password and set the new one (the API's rules)."""
    ctx = request.app.state.ctx
    try:
        body = PasswordChange(current_password=current_password, new_password=new_password)
    except ValidationError as exc:
        problems = field_errors(exc)
        return page(request, "password.html", user, status_code=422, problems=problems)

    def change() -> None:
        with Session(ctx.engine) as session:
            users.change_password(session, user_id=user.id, body=body)

    try:
        await run_in_threadpool(change)
    except DomainError as exc:
        field = "current_password" if exc.code == "wrong_current_password" else "new_password"
        return page(request, "password.html", user, status_code=422, problems={field: exc.message})
    return back(HOME.get(user.role, "/"), notice="Password changed")


@router.post("/logout")
async def logout() -> Response:
    """End the session."""
    response = back("/login", notice="Signed out")
    sign_out(response)
    return response
