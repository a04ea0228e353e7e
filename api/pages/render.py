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
from contracts.tracing import request_id_var
from core.permissions import Permission, allows
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
# Whether a signed-in user's role grants a permission (`allowed(user, "audit.read")`): links
# to pages they could not open are left out.
templates.env.globals["allowed"] = lambda user, name: allows(user.role.value, Permission(name))


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


# What a person reads for an error status on a page (the API's JSON says it for programs).
ERROR_WORDS = {
    403: ("You cannot open this page", "Your account does not have access to it."),
    404: ("Page not found", "There is nothing at this address. Check the link, or go back."),
    405: ("Page not found", "There is nothing to send here. Go back and try again."),
    409: ("That did not go through", "It conflicts with a change made meanwhile. Reload."),
    422: ("Something in the address or form is not right", "Go back, check it and try again."),
    500: ("Something went wrong on our side", "Nothing was lost. Try again in a moment."),
    503: ("We are busy for a moment", "Nothing was lost. Try again in a few seconds."),
}


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not `/api/`, HTML accepted or htmx): errors are pages."""
    if request.url.path.startswith("/api/"):
        return False
    return bool(request.headers.get("hx-request")) or "text/html" in request.headers.get(
        "accept", ""
    )


def error_page(request: Request, status_code: int, title: str, text: str) -> HTMLResponse:
    """The page for an error status; the request id lets support find the log line."""
    return page(
        request,
        "error.html",
        None,
        status_code=status_code,
        status=status_code,
        title=title,
        text=text,
        request_id=request_id_var.get(),
    )


def _as_page(handler: Any) -> Any:
    """The API's error handler, whose answer becomes a page for a page request (same status,
    same headers such as Retry-After or Allow; the JSON stays for everything else)."""

    async def handle(request: Request, exc: Exception) -> Response:
        answer: Response = await handler(request, exc)
        if not wants_page(request) or answer.status_code < 400:
            return answer
        status = answer.status_code
        title, text = ERROR_WORDS.get(status, ERROR_WORDS[500 if status >= 500 else 422])
        shown = error_page(request, status, title, text)
        for name in ("retry-after", "allow", "www-authenticate"):
            if name in answer.headers:
                shown.headers[name] = answer.headers[name]
        return shown

    return handle


def to_login(request: Request, next_path: str) -> Response:
    """To the sign-in page and back to `next_path` afterwards. An htmx request (a poll, a
    click in a live fragment) gets `HX-Redirect`: a redirect it followed would put the
    sign-in page inside the fragment."""
    target = login_url(next_path)
    return _whole_page(request, target, RedirectResponse(target, status_code=303))


def _whole_page(request: Request, target: str, otherwise: Response) -> Response:
    """`HX-Redirect` to `target` for an htmx request (the whole page goes), else `otherwise`."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return otherwise


def install_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for kind, handler in list(app.exception_handlers.items()):
        app.exception_handlers[kind] = _as_page(handler)

    async def signed_out(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return to_login(request, exc.next_path)

    async def forbidden(request: Request, exc: Exception) -> HTMLResponse:
        return page(request, "forbidden.html", None, status_code=403, home=HOME)

    async def to_password(request: Request, exc: Exception) -> Response:
        notice = back(PASSWORD_PAGE, notice="Choose your own password to continue")
        return _whole_page(request, PASSWORD_PAGE, notice)

    app.add_exception_handler(LoginRequired, signed_out)
    app.add_exception_handler(PasswordChangeRequired, to_password)
    app.add_exception_handler(WrongRole, forbidden)
