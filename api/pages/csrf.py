"""CSRF on every page form (asgi-csrf's double-submit cookie: a form field or the
`x-csrftoken` header that htmx sends). The JSON API under `/api/` never reads the cookie, so
it needs no CSRF protection.

A refused token is a page, not asgi-csrf's plain text: an htmx request (a poll or a click
inside a live fragment) is sent to the sign-in page with `HX-Redirect` and comes back to the
page it was on; a plain form gets a 403 page that says to reload.
"""

from __future__ import annotations

import secrets
from http.cookies import SimpleCookie
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.pages.render import error_page
from api.pages.session import current_page, login_url
from core.settings import Settings


class _PagePaths:
    """asgi-csrf lets a POST with no cookie at all through, unless its path is "always
    protected": every page path is. Signing in and up come with no cookie yet, and without a
    token another site could sign a visitor into an account of its choosing."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not path.startswith("/api/")


async def _nothing_to_receive() -> Message:
    return {"type": "http.disconnect"}


async def refused_token(scope: Scope, send: Send, _reason: Any) -> None:
    """asgi-csrf's `send_csrf_failed`: the page (or htmx redirect) for a stale or missing
    token. `scope` carries the token getter, so the answer sets a fresh cookie if needed."""
    request = Request(scope)
    answer: Response
    if request.headers.get("hx-request"):
        target = login_url(current_page(request))
        answer = Response(status_code=403, headers={"HX-Redirect": target})
    else:
        answer = error_page(
            request,
            403,
            "This form has expired",
            "The page was open too long or you signed in again elsewhere. "
            "Reload the page and send the form again.",
        )
    await answer(scope, _nothing_to_receive, send)


def protect_forms(app: ASGIApp, settings: Settings) -> ASGIApp:
    protected: ASGIApp = asgi_csrf(
        app,
        signing_secret=settings.jwt_secrets[0],
        cookie_secure=settings.environment != "development",
        always_protect=_PagePaths(),
        skip_if_scope=lambda scope: scope["path"].startswith("/api/"),
        send_csrf_failed=refused_token,
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
