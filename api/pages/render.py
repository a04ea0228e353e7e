"""Rendering pages: templates (autoescaped), the CSRF token, and the page error handlers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from api.pages.session import (
    HOME,
    PASSWORD_PAGE,
    LoginRequired,
    PasswordChangeRequired,
    WrongRole,
    csrf_token,
    login_url,
)
from models.amounts import format_minor
from models.users import User

HERE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=HERE / "templates")


def time_left(deadline: datetime | None) -> str:
    """`12:05` minutes and seconds until the deadline, `0:00` once it passed."""
    if deadline is None:
        return ""
    seconds = max(0, int((deadline - datetime.now(UTC)).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


templates.env.filters["time_left"] = time_left
# Minor units as the currency writes them (`{{ r.max_amount_minor|money(r.currency) }}`).
templates.env.filters["money"] = lambda minor, currency="RUB": format_minor(minor, currency)


def page(
    request: Request, name: str, user: User | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "csrf": csrf_token(request),
            "error": request.query_params.get("error"),
            "notice": request.query_params.get("notice"),
            **context,
        },
        status_code=status_code,
    )


# The notice after an action its workflow has not applied yet (answered 202 by the API).
QUEUED = "Sent: the order will show it in a moment (refresh the page)"


def back(path: str, *, error: str | None = None, notice: str | None = None) -> RedirectResponse:
    """Post/redirect/get, with a one-line message for the next page."""
    message = f"error={quote(error)}" if error else f"notice={quote(notice)}" if notice else ""
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(path + (joiner + message if message else ""), status_code=303)


def back_from(
    request: Request, path: str, *, error: str | None = None, notice: str | None = None
) -> Response:
    """`back()`, or for a form htmx sent (uploads), a full-page redirect it follows."""
    redirect = back(path, error=error, notice=notice)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": redirect.headers["location"]})
    return redirect


def install_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    async def to_login(request: Request, exc: Exception) -> RedirectResponse:
        assert isinstance(exc, LoginRequired)
        return RedirectResponse(login_url(exc.next_path), status_code=303)

    async def forbidden(request: Request, exc: Exception) -> HTMLResponse:
        return page(request, "forbidden.html", None, status_code=403, home=HOME)

    async def to_password(request: Request, exc: Exception) -> RedirectResponse:
        return back(PASSWORD_PAGE, notice="Choose your own password to continue")

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(PasswordChangeRequired, to_password)
    app.add_exception_handler(WrongRole, forbidden)
