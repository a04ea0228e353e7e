"""Staff permissions as a matrix: every staff route × every staff role answers 403 exactly
when `core.permissions.ROLE_PERMISSIONS` says so, and no staff route can leave its
permission undeclared."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Sequence

import httpx
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import RouteContext, iter_route_contexts
from starlette.routing import BaseRoute

from api.deps import CurrentUser, FundsApprover, declared_permission
from api.pages.session import COOKIE
from core.context import ServiceContext
from core.permissions import ROLE_PERMISSIONS, Permission, allows
from core.security import create_access_token
from models.users import Role
from tests.conftest import MakeApi
from tests.factories import create_user

# Roles the matrix signs in as: the staff roles and one that is no staff at all.
MATRIX_ROLES = [*ROLE_PERMISSIONS, Role.merchant.value]
STAFF_PREFIXES = ("/api/admin", "/admin")


def staff_routes(routes: Sequence[BaseRoute]) -> list[RouteContext]:
    """Routes that belong to staff: under a staff prefix, or checking a permission."""
    return [
        route
        for route in iter_route_contexts(routes)
        if getattr(route, "dependant", None) is not None
        and ((route.path or "").startswith(STAFF_PREFIXES) or declared_permission(route.dependant))
    ]


def undeclared(routes: Sequence[BaseRoute]) -> list[str]:
    return [
        f"{sorted(r.methods or ())} {r.path}"
        for r in staff_routes(routes)
        if declared_permission(r.dependant) is None
    ]


def test_every_staff_route_declares_its_permission(app: FastAPI) -> None:
    assert len(staff_routes(app.routes)) > 60
    assert undeclared(app.routes) == []


def test_a_staff_route_without_a_permission_is_found() -> None:
    router = APIRouter()

    @router.post("/api/admin/forgotten")
    def forgotten(_: CurrentUser) -> None: ...

    @router.post("/api/admin/declared")
    def declared(_: FundsApprover) -> None: ...

    def funds_check(_: FundsApprover) -> None: ...

    @router.get("/api/admin/declared-as-dependency", dependencies=[Depends(funds_check)])
    def declared_indirectly() -> None: ...

    assert undeclared(router.routes) == ["['POST'] /api/admin/forgotten"]


def _url(route: RouteContext) -> str:
    # Made-up ids: an allowed role gets past the check and answers 404/422, never 403.
    return re.sub(
        r"\{[^}]+\}", lambda m: str(uuid.uuid4()) if "id}" in m[0] else "zzz", route.path or ""
    )


async def test_every_staff_route_answers_each_role_as_its_permission_says(
    app: FastAPI, ctx: ServiceContext, make_api: MakeApi
) -> None:
    # One request per (role, route): lift the request limits for this many.
    api = await make_api(ip_rate_limit="100000/minute", user_rate_limit="100000/minute")
    api_routes = [r for r in staff_routes(app.routes) if _url(r).startswith("/api/")]
    wrong = []
    answered: list[int] = []
    for role in MATRIX_ROLES:
        user = create_user(ctx.engine, Role(role))
        token = create_access_token(ctx.settings, user.id, role)
        headers = {"Authorization": f"Bearer {token}"}
        for route in api_routes:
            permission = declared_permission(route.dependant)
            assert permission is not None
            for method in sorted(route.methods or ()):
                # An empty JSON object: the permission check runs before body validation.
                body: dict[str, str] | None = {} if method in ("POST", "PUT", "PATCH") else None
                answer = await api.request(method, _url(route), json=body, headers=headers)
                denied = answer.status_code == 403
                answered.append(answer.status_code)
                if denied != (not allows(role, permission)):
                    wrong.append((role, method, route.path, permission.value, answer.status_code))
                elif denied:
                    error = answer.json()["error"]
                    assert error["code"] == "role_required", answer.text
                    assert error["details"]["permission"] == permission.value
    assert wrong == []
    assert answered.count(403) > 100 and 500 not in answered, Counter(answered)


async def test_each_permission_is_someones_and_the_openapi_lists_it(api: httpx.AsyncClient) -> None:
    assert {p for granted in ROLE_PERMISSIONS.values() for p in granted} == set(Permission)
    schema = (await api.get("/openapi.json")).json()
    resolve = schema["paths"]["/api/admin/orders/{order_id}/resolve"]["post"]
    assert resolve["x-permission"] == "disputes.handle"
    assert "Permission: `disputes.handle` (roles: admin, support)" in resolve["description"]
    approve = schema["paths"]["/api/admin/withdrawals/{withdrawal_id}/approve"]["post"]
    assert approve["x-permission"] == "funds.approve"
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/admin"):
                assert "x-permission" in operation, (method, path)


async def test_finance_sees_the_admin_pages_but_not_what_support_or_an_admin_does(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    finance = create_user(ctx.engine, Role.finance)
    cookie = {"Cookie": f"{COOKIE}={create_access_token(ctx.settings, finance.id, 'finance')}"}
    for path in ("/admin", "/admin/disputes", "/admin/requisites", "/admin/users"):
        shown = await api.get(path, headers=cookie)
        assert shown.status_code == 200, path
        assert 'class="resolve"' not in shown.text and 'id="create-user"' not in shown.text
