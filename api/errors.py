"""One error shape for every 4xx/5xx: {"error": {"code", "message", "details"}, "request_id"}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from temporalio.service import RPCError

from contracts.tracing import request_id_var
from core import errors as domain
from models.funds import DepositPublic
from models.payouts import PayoutPublic

log = logging.getLogger(__name__)
# A dependency that is down is worth a retry: how long to wait first (seconds).
RETRY_AFTER_S = "5"


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.details = details
        self.headers = headers


class NotFoundError(AppError):
    status_code = 404
    code = "not_found"


class ConflictError(AppError):
    status_code = 409
    code = "conflict"


class UnauthorizedError(AppError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str = "Not authenticated", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class ForbiddenError(AppError):
    status_code = 403
    code = "forbidden"


class ServiceUnavailableError(AppError):
    status_code = 503
    code = "service_unavailable"


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {"code": code, "message": message, "details": details},
        "request_id": request_id_var.get(),
    }
    if status_code == 503:  # every 503 says when to retry (unless it says so itself)
        headers = {"Retry-After": RETRY_AFTER_S, **(headers or {})}
    return JSONResponse(body, status_code=status_code, headers=headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


# The one place where a domain refusal becomes an HTTP status.
DOMAIN_STATUS: dict[type[domain.DomainError], int] = {
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.NotAllowed: 403,
    domain.TooLarge: 413,
    domain.UnsupportedMedia: 415,
    domain.Unavailable: 503,
    domain.Invalid: 422,
}


def domain_status(exc: domain.DomainError) -> int:
    return next((code for kind, code in DOMAIN_STATUS.items() if isinstance(exc, kind)), 422)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, domain.DomainError)
    return error_response(domain_status(exc), exc.code, exc.message, exc.details)


def _poll_location(path: str, body: object) -> str:
    """Where to read the order an action was sent to: the action's path without the action
    (`/api/gateway/payins/{id}/paid` → `/api/gateway/payins/{id}`); staff read pay-outs at
    `/api/admin/payouts/{id}`."""
    if isinstance(body, DepositPublic):  # an admin's direct deposit above the threshold
        return f"/api/admin/deposits/{body.id}"
    location = path.rsplit("/", 1)[0]
    if location.startswith("/api/admin/orders/") and isinstance(body, PayoutPublic):
        location = location.replace("/api/admin/orders/", "/api/admin/payouts/", 1)
    return location


async def _pending(request: Request, exc: Exception) -> JSONResponse:
    # Not an error: the action is with the workflow and not applied yet. The body is the
    # order as it is now; poll the Location until its status moves.
    assert isinstance(exc, domain.Pending)
    headers = {"Location": _poll_location(request.url.path, exc.body), "Retry-After": "1"}
    return JSONResponse(jsonable_encoder(exc.body), status_code=202, headers=headers)


def _unavailable(code: str, what: str) -> JSONResponse:
    return error_response(503, code, f"{what} is unavailable; retry later")


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    # A lost connection, a full pool, a database restarting: nothing was half-written (the
    # transaction rolled back), so the caller may retry the same request.
    log.warning("database unavailable: %s", type(exc).__name__)
    return _unavailable("database_unavailable", "The database")


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if exc.connection_invalidated:
        return await _database_down(request, exc)
    return await _unhandled(request, exc)


async def _temporal_down(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    log.warning("workflow engine unavailable: %s", exc.status.name if exc.status else "?")
    return _unavailable("temporal_unavailable", "The workflow engine")


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg"), "type": err.get("type")}
        for err in exc.errors()
    ]
    return error_response(422, "validation_error", "Request validation failed", details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return error_response(exc.status_code, code, str(exc.detail), None, headers)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's 405 names only the methods of
    the first route whose path matched, while one path often has a route per method."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def _constraint(exc: DBAPIError) -> str | None:
    """The name of the constraint a database error is about (PostgreSQL says it; SQLite
    names the columns in its message)."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return str(name) if name else None


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    # A safety net: services map the conflicts they expect; this keeps any other one a
    # clear 409 (never a 500, never the SQL values).
    assert isinstance(exc, IntegrityError)
    log.warning("integrity error on %s", _constraint(exc) or "a constraint")
    details = {"constraint": _constraint(exc)}
    return error_response(409, "conflict", "The change conflicts with existing data", details)


async def _data_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DataError)
    log.warning("data error: a value the database cannot store")
    return error_response(422, "value_out_of_range", "A value is out of the allowed range")


async def _unhandled(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "Internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(domain.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(PoolTimeout, _database_down)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(RPCError, _temporal_down)
    app.add_exception_handler(domain.Pending, _pending)
    app.add_exception_handler(Exception, _unhandled)
