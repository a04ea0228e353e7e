"""Annotated dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, col, select
from temporalio.client import Client

from api.errors import ForbiddenError, ServiceUnavailableError, UnauthorizedError
from api.ratelimit import limits_of, platform_of
from core.context import ServiceContext
from core.permissions import Permission, allows, roles_with
from core.security import InvalidTokenError, decode_access_token, hash_api_key
from core.settings import Settings
from models.merchants import Merchant, Store
from models.platform_settings import PlatformValues
from models.traders import Trader
from models.users import Role, User
from processing.accounts import traders

_bearer = HTTPBearer(auto_error=False)
# For routes that take a bearer session or something else (an enrolment challenge).
bearer = _bearer
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)
T = TypeVar("T")


# Dependencies without I/O are `async def` so FastAPI runs them inline instead of sending
# each one to the thread pool (a hop per dependency per request adds up).
async def get_context(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[ServiceContext, Depends(get_context)]


async def get_settings_dep(ctx: ContextDep) -> Settings:
    return ctx.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_session(ctx: ContextDep) -> AsyncIterator[Session]:
    # Opening a session does no I/O (the connection is taken at first use); closing it hands
    # the connection back to the pool, which talks to the database, so that runs in a thread.
    session = Session(ctx.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        await run_in_threadpool(session.close)


SessionDep = Annotated[Session, Depends(get_session)]


async def get_temporal(ctx: ContextDep) -> Client:
    try:
        return await ctx.temporal.get()
    except Exception as exc:
        raise ServiceUnavailableError(
            "Workflow engine is unavailable", code="temporal_unavailable"
        ) from exc


TemporalDep = Annotated[Client, Depends(get_temporal)]
# The platform settings in force, read once per request.
PlatformDep = Annotated[PlatformValues, Depends(platform_of)]


async def get_signed_in_user(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    rates: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise UnauthorizedError("Bearer token required", code="not_authenticated")
    try:
        claims = decode_access_token(settings, credentials.credentials)
    except InvalidTokenError as exc:
        raise UnauthorizedError("Invalid or expired token", code="invalid_token") from exc
    user = await run_in_threadpool(
        _read_and_release, session, lambda: session.get(User, claims.user_id)
    )
    if user is None or not user.is_active:
        raise UnauthorizedError("Invalid or expired token", code="invalid_token")
    request.state.user_id = str(user.id)  # the request's log line names who asked
    await limits_of(request).hit(rates.user_rate_limit, f"user:{user.id}", "for this user")
    return user


SignedInUser = Annotated[User, Depends(get_signed_in_user)]


async def get_current_user(user: SignedInUser) -> User:
    """The signed-in user, once any one-time password has been replaced."""
    if user.password_change_required:
        raise ForbiddenError(
            "Change the one-time password first (POST /api/auth/password)",
            code="password_change_required",
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def _read_and_release(session: Session, read: Callable[[], T]) -> T:
    """Run an identity lookup and end its transaction, so no connection stays checked out
    while the handler awaits something else (a workflow, a bank)."""
    result = read()
    session.commit()
    return result


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ForbiddenError(
                "This action needs another role",
                code="role_required",
                details={"required": [r.value for r in roles], "role": user.role.value},
            )
        return user

    return check


def require(permission: Permission) -> Callable[[User], Awaitable[User]]:
    """The one staff check: the signed-in user's role grants `permission`
    (`core.permissions.ROLE_PERMISSIONS`). The checker carries its permission, which the
    OpenAPI lists per operation and the permission matrix test reads."""
    return _checks.setdefault(permission, _permission_check(permission))


def _permission_check(permission: Permission) -> Callable[[User], Awaitable[User]]:
    async def check(user: CurrentUser) -> User:
        if not allows(user.role.value, permission):
            raise ForbiddenError(
                "This action needs another role",
                code="role_required",
                details={
                    "required": roles_with(permission),
                    "permission": permission.value,
                    "role": user.role.value,
                },
            )
        return user

    check.permission = permission  # type: ignore[attr-defined]
    return check


_checks: dict[Permission, Callable[[User], Awaitable[User]]] = {}


def declared_permission(dependant: Dependant) -> Permission | None:
    """The permission a route's dependencies check (the first found, depth first)."""
    for sub in dependant.dependencies:
        found = getattr(sub.call, "permission", None) or declared_permission(sub)
        if found is not None:
            return cast(Permission, found)
    return None


def Allowed(permission: Permission) -> Any:
    """`user: Annotated[User, Allowed(Permission.funds_approve)]`."""
    return Depends(require(permission))


# Staff by what they may do; `CurrentAdmin` and `CurrentStaff` stay for routes written
# before permissions: an administrator's action, and any staff member's read.
CurrentAdmin = Annotated[User, Allowed(Permission.admin)]
CurrentStaff = Annotated[User, Allowed(Permission.read)]
DisputeHandler = Annotated[User, Allowed(Permission.disputes_handle)]
OrderHandler = Annotated[User, Allowed(Permission.orders_handle)]
FundsApprover = Annotated[User, Allowed(Permission.funds_approve)]
ReportReader = Annotated[User, Allowed(Permission.reports_read)]
RateSetter = Annotated[User, Allowed(Permission.rates_set)]
AccountManager = Annotated[User, Allowed(Permission.accounts_manage)]
FraudManager = Annotated[User, Allowed(Permission.fraud_manage)]
SettingsManager = Annotated[User, Allowed(Permission.settings_manage)]
ReferenceManager = Annotated[User, Allowed(Permission.reference_manage)]
AuditReader = Annotated[User, Allowed(Permission.audit_read)]
StaffManager = Annotated[User, Allowed(Permission.staff_manage)]
CurrentMerchant = Annotated[User, Depends(require_roles(Role.merchant))]
CurrentTrader = Annotated[User, Depends(require_roles(Role.trader))]
CurrentTeamlead = Annotated[User, Depends(require_roles(Role.teamlead))]
# Traders are Connect users too: they connect their own banks for the statement bridge.
CONNECT_ROLES = (Role.connect_user, Role.trader)
CurrentConnectUser = Annotated[User, Depends(require_roles(*CONNECT_ROLES))]


async def get_current_store(
    request: Request,
    session: SessionDep,
    rates: PlatformDep,
    api_key: Annotated[str | None, Security(_api_key)],
) -> Store:
    if not api_key:
        raise UnauthorizedError("X-API-Key header required", code="api_key_required")
    # A blocked merchant's stores stop answering too.
    query = (
        select(Store)
        .join(Merchant, col(Merchant.id) == Store.merchant_id)
        .join(User, col(User.id) == Merchant.owner_user_id)
        .where(Store.api_key_hash == hash_api_key(api_key), col(User.is_active))
    )
    store = await run_in_threadpool(_read_and_release, session, lambda: session.exec(query).first())
    if store is None or not store.is_active:
        raise UnauthorizedError("Invalid API key", code="invalid_api_key")
    request.state.store_id = str(store.id)  # the request's log line names who asked
    # Counted per validated store: a made-up key never reaches here (the IP limit counts it).
    await limits_of(request).hit(rates.api_rate_limit, f"store:{store.id}", "for this store")
    return store


CurrentStore = Annotated[Store, Depends(get_current_store)]


def get_trader_profile(session: SessionDep, user: CurrentTrader) -> Trader:
    return _read_and_release(session, lambda: traders.trader_of(session, user_id=user.id))


CurrentTraderProfile = Annotated[Trader, Depends(get_trader_profile)]
