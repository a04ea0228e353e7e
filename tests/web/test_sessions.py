"""The page session's cookie as the browser receives it: HttpOnly, SameSite=Lax and Secure
everywhere but development (the suite runs as `test`)."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlmodel import Session, select

from core.context import ServiceContext
from models.users import Role, User
from tests.factories import PASSWORD, create_user


async def test_the_session_cookie_is_httponly_lax_and_secure(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    assert ctx.settings.environment == "test"
    user = create_user(ctx.engine, Role.trader)
    form = await api.get("/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text)
    assert token is not None
    signed = await api.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrftoken": token.group(1)},
        # sent by hand: a Secure cookie does not travel over the test client's plain http
        headers={"cookie": f"csrftoken={form.cookies['csrftoken']}"},
    )
    assert signed.status_code == 303
    session = next(
        c for c in signed.headers.get_list("set-cookie") if c.startswith("jivapay_session=")
    )
    attributes = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax"} <= attributes
    csrf = form.headers["set-cookie"].lower()
    assert "secure" in csrf and "samesite=lax" in csrf


async def test_signing_in_or_up_needs_the_forms_csrf_token(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    """Login CSRF: without the token, another site could sign a visitor into an account of
    its choosing (and read what they then enter). A browser with no cookie yet is refused
    too."""
    user = create_user(ctx.engine, Role.trader)
    forged = await api.post("/login", data={"email": user.email, "password": PASSWORD})
    assert forged.status_code == 403
    assert "jivapay_session" not in forged.headers.get("set-cookie", "")
    email = f"forged-{uuid.uuid4().hex[:8]}@example.com"
    signup = await api.post("/register", data={"email": email, "password": PASSWORD})
    assert signup.status_code == 403
    with Session(ctx.engine) as session:
        assert session.exec(select(User).where(User.email == email)).first() is None
    # A token from another browser (its own cookie) does not pass either.
    other = re.search(r'name="csrftoken" value="([^"]+)"', (await api.get("/login")).text)
    assert other is not None
    api.cookies.clear()
    stolen = await api.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrftoken": other.group(1)}
    )
    assert stolen.status_code == 403
