"""The page session's cookie as the browser receives it: HttpOnly, SameSite=Lax and Secure
everywhere but development (the suite runs as `test`)."""

from __future__ import annotations

import re

import httpx

from core.context import ServiceContext
from models.users import Role
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
