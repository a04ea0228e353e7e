"""Two-factor sign-in (TOTP, RFC 6238) with pyotp's own code generation as the oracle:
enrolment, the login's second step, codes good once, recovery codes good once, the lockout,
roles that must enrol, and an administrator's reset."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
from sqlalchemy import text
from sqlmodel import Session

from core.context import ServiceContext
from models.users import Role
from tests.conftest import MakeApi
from tests.factories import (
    PASSWORD,
    SECRETS_AT_REST,
    create_user,
    give_second_factor,
    login,
    next_code,
)

QR_PREFIX = "data:image/svg+xml"


async def _password(api: httpx.AsyncClient, email: str) -> dict[str, object]:
    response = await api.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    answer: dict[str, object] = response.json()
    return answer


async def _verify(api: httpx.AsyncClient, challenge: object, **code: str) -> httpx.Response:
    return await api.post("/api/auth/mfa/verify", json={"challenge": challenge, **code})


def _bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_trader_enrols_and_signs_in_with_codes_good_once(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    trader = create_user(ctx.engine, Role.trader)
    headers = await login(api, trader.email)  # optional for traders: the password is enough
    enrolment = (await api.post("/api/auth/mfa/enrol", headers=headers)).json()
    secret = enrolment["secret"]
    totp = pyotp.TOTP(secret)
    assert enrolment["otpauth_uri"] == totp.provisioning_uri(
        name=trader.email, issuer_name="JivaPay"
    )
    assert enrolment["qr_svg"].startswith(QR_PREFIX)
    wrong = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    refused = await api.post("/api/auth/mfa/confirm", json={"code": wrong}, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "mfa_code_invalid")
    first = totp.now()
    confirmed = await api.post("/api/auth/mfa/confirm", json={"code": first}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(set(codes)) == 10
    # At rest the secret is encrypted: the raw column never holds it.
    with ctx.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT secret_encrypted FROM second_factors WHERE user_id = :u"),
            {"u": trader.id.hex if ctx.engine.dialect.name == "sqlite" else trader.id},
        ).scalar_one()
    assert secret not in stored and ctx.secrets.decrypt(stored) == secret

    step = await _password(api, trader.email)
    assert step["mfa_required"] is True and "access_token" not in step
    # The code that confirmed the enrolment was used in its window: replay is refused.
    replay = await _verify(api, step["challenge"], code=first)
    assert (replay.status_code, replay.json()["error"]["code"]) == (401, "mfa_code_reused")
    fresh = totp.at(time.time() + totp.interval)  # the next step's code (one step of drift)
    signed_in = await _verify(api, step["challenge"], code=fresh)
    assert signed_in.status_code == 200, signed_in.text
    me = await api.get("/api/auth/me", headers=_bearer(signed_in.json()["access_token"]))
    assert me.json()["email"] == trader.email
    again = await _verify(api, step["challenge"], code=fresh)  # the challenge is single-use
    assert (again.status_code, again.json()["error"]["code"]) == (401, "mfa_challenge_invalid")

    # A recovery code signs in once.
    step = await _password(api, trader.email)
    recovered = await _verify(api, step["challenge"], recovery_code=codes[3].upper())
    assert recovered.status_code == 200, recovered.text
    step = await _password(api, trader.email)
    spent = await _verify(api, step["challenge"], recovery_code=codes[3])
    assert (spent.status_code, spent.json()["error"]["code"]) == (401, "mfa_code_invalid")
    status = await api.get("/api/auth/mfa", headers=headers)
    assert status.json() == {"enabled": True, "required": False, "recovery_codes_left": 9}


async def test_wrong_codes_count_towards_the_login_lockout(
    ctx: ServiceContext, make_api: MakeApi
) -> None:
    api = await make_api(login_pair_rate_limit="3/minute")
    admin = create_user(ctx.engine, Role.admin)  # with a second factor, as enrolled
    step = await _password(api, admin.email)
    for _ in range(3):
        wrong = await _verify(api, step["challenge"], code="000000")
        assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "mfa_code_invalid")
    locked = await _verify(api, step["challenge"], code=next_code(admin.email))
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "too_many_attempts"
    assert int(locked.headers["Retry-After"]) > 0
    # The password step is locked out too: the same counter.
    password = await api.post("/api/auth/login", json={"email": admin.email, "password": PASSWORD})
    assert password.status_code == 429


async def test_a_role_that_requires_a_second_factor_must_enrol_first(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    admin = await login(api, create_user(ctx.engine, Role.admin).email)
    email = f"finance-{time.time_ns()}@example.com"
    body = {"email": email, "role": "finance", "password": PASSWORD}
    assert (await api.post("/api/admin/users", json=body, headers=admin)).status_code == 201
    step = await _password(api, email)
    assert step["mfa_enrolment_required"] is True and "access_token" not in step
    challenge = step["challenge"]
    # The challenge is no session, and only allows enrolment.
    assert (await api.get("/api/auth/me", headers=_bearer(challenge))).status_code == 401
    assert (await _verify(api, challenge, code="123456")).json()["error"]["code"] == (
        "mfa_challenge_invalid"
    )
    secret = (await api.post("/api/auth/mfa/enrol", json={"challenge": challenge})).json()["secret"]
    confirm = {"challenge": challenge, "code": pyotp.TOTP(secret).now()}
    confirmed = (await api.post("/api/auth/mfa/confirm", json=confirm)).json()
    assert len(confirmed["recovery_codes"]) == 10
    finance = _bearer(confirmed["access_token"])
    assert (await api.get("/api/admin/deposits", headers=finance)).status_code == 200
    # Required for the role: it cannot be turned off by its holder.
    off = await api.post("/api/auth/mfa/disable", json={"code": "123456"}, headers=finance)
    assert (off.status_code, off.json()["error"]["code"]) == (403, "mfa_required_for_role")
    reused = await api.post("/api/auth/mfa/enrol", json={"challenge": challenge})
    assert reused.status_code == 401  # the enrolment challenge was spent by the confirmation


async def test_an_admin_resets_another_users_second_factor_never_their_own(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    me = create_user(ctx.engine, Role.admin)
    admin = await login(api, me.email)
    other = create_user(ctx.engine, Role.finance)
    done = await api.post(f"/api/admin/users/{other.id}/mfa/reset", headers=admin)
    assert done.status_code == 200, done.text
    assert (await _password(api, other.email))["mfa_enrolment_required"] is True
    audit = (await api.get("/api/admin/audit", headers=admin)).json()
    assert any(
        e["target_id"] == str(other.id) and e["action"].endswith("/mfa/reset") for e in audit
    )
    own = await api.post(f"/api/admin/users/{me.id}/mfa/reset", headers=admin)
    assert (own.status_code, own.json()["error"]["code"]) == (409, "mfa_reset_self")
    assert (await _password(api, me.email))["mfa_required"] is True
    support = await login(api, create_user(ctx.engine, Role.support).email)
    refused = await api.post(f"/api/admin/users/{other.id}/mfa/reset", headers=support)
    assert refused.status_code == 403


async def test_an_optional_second_factor_is_turned_off_with_a_code(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    merchant = create_user(ctx.engine, Role.merchant)
    with Session(ctx.engine, expire_on_commit=False) as session:
        give_second_factor(session, SECRETS_AT_REST["box"], merchant)
    headers = await login(api, merchant.email)  # password, then the code
    off = await api.post(
        "/api/auth/mfa/disable", json={"code": next_code(merchant.email)}, headers=headers
    )
    assert off.status_code == 204, off.text
    assert "access_token" in await _password(api, merchant.email)


async def test_an_expired_challenge_is_refused(api: httpx.AsyncClient, ctx: ServiceContext) -> None:
    admin = create_user(ctx.engine, Role.admin)
    step = await _password(api, admin.email)
    with ctx.engine.begin() as conn:  # five minutes later
        conn.execute(
            text("UPDATE mfa_challenges SET expires_at = :past WHERE user_id = :u"),
            {
                "past": datetime.now(UTC) - timedelta(seconds=1),
                "u": admin.id.hex if ctx.engine.dialect.name == "sqlite" else admin.id,
            },
        )
    late = await _verify(api, step["challenge"], code=next_code(admin.email))
    assert (late.status_code, late.json()["error"]["code"]) == (401, "mfa_challenge_invalid")
