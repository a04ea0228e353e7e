"""The pages' second factor: after the password the code (or a recovery code) is asked for;
a role that requires one and has none enrols with the QR code before its session starts."""

from __future__ import annotations

import re

import httpx
import pyotp

from core.context import ServiceContext
from models.users import Role
from tests.factories import PASSWORD, create_user, login, next_code, page_login


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, html
    return found[1]


async def _post(
    api: httpx.AsyncClient, path: str, csrf: str, data: dict[str, str]
) -> httpx.Response:
    # Sent by hand: the suite's cookies are Secure and this is plain http.
    headers = {"cookie": f"csrftoken={csrf}"}
    return await api.post(path, data={"csrftoken": csrf, **data}, headers=headers)


async def _password_step(api: httpx.AsyncClient, email: str) -> tuple[str, httpx.Response]:
    api.cookies.clear()
    form = await api.get("/login")
    csrf = form.cookies["csrftoken"]
    answer = await _post(api, "/login", csrf, {"email": email, "password": PASSWORD})
    return csrf, answer


async def test_the_sign_in_page_asks_for_the_code_after_the_password(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    admin = create_user(ctx.engine, Role.admin)
    csrf, asked = await _password_step(api, admin.email)
    assert asked.status_code == 200 and 'id="mfa-code"' in asked.text
    assert "jivapay_session" not in asked.headers.get("set-cookie", "")
    challenge = _field(asked.text, "challenge")
    wrong = await _post(api, "/login/code", csrf, {"challenge": challenge, "code": "000000"})
    assert wrong.status_code == 401 and 'id="mfa-code"' in wrong.text
    right = {"challenge": challenge, "code": next_code(admin.email), "next": "/admin"}
    signed_in = await _post(api, "/login/code", csrf, right)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/admin"
    assert "jivapay_session=" in signed_in.headers["set-cookie"]


async def test_a_finance_user_without_a_second_factor_enrols_on_the_sign_in_page(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    finance = create_user(ctx.engine, Role.finance)
    admin = await login(api, create_user(ctx.engine, Role.admin).email)
    reset = await api.post(f"/api/admin/users/{finance.id}/mfa/reset", headers=admin)
    assert reset.status_code == 200
    csrf, enrol = await _password_step(api, finance.email)
    assert enrol.status_code == 200 and 'id="mfa-qr" src="data:image/svg+xml' in enrol.text
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', enrol.text)
    assert secret is not None
    body = {"challenge": _field(enrol.text, "challenge"), "code": pyotp.TOTP(secret[1]).now()}
    done = await _post(api, "/login/enrol", csrf, body)
    # Post/Redirect/Get: the recovery codes are on the next page, once; a reload has none.
    assert done.status_code == 303 and done.headers["location"].startswith("/account/mfa/codes")
    assert "<code>" not in done.text
    cookies = {"cookie": f"csrftoken={csrf}; " + "; ".join(
        f"{name}={done.cookies[name]}" for name in ("jivapay_session", "jivapay_once")
    )}  # fmt: skip
    shown = await api.get(done.headers["location"], headers=cookies)
    assert shown.status_code == 200 and shown.text.count("<li><code>") == 10
    again = await api.get(done.headers["location"], headers=cookies)
    assert again.status_code == 200 and "<li><code>" not in again.text
    assert 'id="codes-gone"' in again.text


async def test_the_page_login_helper_completes_the_second_step(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    admin = create_user(ctx.engine, Role.admin)
    signed_in = await page_login(api, admin.email, next_path="/admin/users")
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/admin/users")
