"""The OpenAPI document as the truth about errors: every operation declares the error
answers it can give, in the one error shape the API really sends (FastAPI's default 422
`detail` list is replaced, since our 422 is `{"error": …}` too); uploads and bounds are
written the standard way (`tests/fuzz` holds the server to the document)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import iter_route_contexts

from api.deps import declared_permission
from core.permissions import roles_with

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "request_id"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code"},
                "message": {"type": "string"},
                "details": {"description": "What was wrong (e.g. each invalid field)"},
            },
        },
        "request_id": {"type": "string"},
    },
}
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
# Every operation: bad input, rate limits, dependencies down (Temporal, database).
ALWAYS = {
    "400": "Malformed request",
    "422": "Invalid input (see `error.details`)",
    "429": "Too many requests",
    "503": "A dependency is unavailable; retry later",
}
AUTHENTICATED = {"401": "Missing or invalid credentials", "403": "Not allowed for this role"}
WITH_PATH_ID = {"404": "Not found (or not yours)"}
WRITES = {
    "409": "Conflicts with the current state",
    "413": "Body too large",
    "415": "Unsupported media type",
}


def _error_responses(operation: dict[str, Any], method: str, path: str) -> dict[str, str]:
    wanted = dict(ALWAYS)
    if operation.get("security"):
        wanted |= AUTHENTICATED
    names = [p.get("name", "") for p in operation.get("parameters", [])]
    if "{" in path or any(name.endswith("_id") for name in names):
        wanted |= WITH_PATH_ID
    if method in ("post", "put", "patch", "delete"):
        wanted |= WRITES
    return wanted


# Actions sent to an order's (or a deposit's, a withdrawal's) workflow: past the wait bound,
# 202 with the object as it is.
ORDER_ACTIONS = ("/paid", "/confirm", "/cancel", "/take", "/dispute", "/resolve", "/review")
FUNDS_ACTIONS = ("/approve", "/reject", "/paid", "/cancel")
ACCEPTED_HEADERS = {
    "Location": {"description": "Where to poll the order", "schema": {"type": "string"}},
    **RETRY_AFTER,
}


def _accepted(path: str, method: str, responses: dict[str, Any]) -> None:
    order = "{order_id}" in path and path.endswith(ORDER_ACTIONS)
    funds = ("{deposit_id}" in path or "{withdrawal_id}" in path) and path.endswith(FUNDS_ACTIONS)
    if method != "post" or not (order or funds):
        return
    done = responses.get("200", {})
    responses["202"] = {
        "description": "Accepted, not applied yet: the order as it is now; poll `Location`",
        "headers": ACCEPTED_HEADERS,
        "content": done.get("content", {}),
    }


# pydantic names bounds it could not fold into a validator-wrapped integer (`JsonInt | None`)
# by their Python names; JSON Schema's are these.
BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
# What an upload must be; the server reads the file's first bytes, never the part's header.
UPLOAD_TYPES = "image/png, image/jpeg, application/pdf"


def _standard(node: Any) -> None:
    """Uploads as `format: binary` (OpenAPI 3.1 `contentMediaType` alone reads as text to
    clients and fuzzers), bounds under their JSON Schema names."""
    if isinstance(node, list):
        for item in node:
            _standard(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("contentMediaType") == "application/octet-stream":
        node["format"] = "binary"
    if node.get("type") in ("integer", "number"):
        for python, standard in BOUNDS.items():
            if python in node:
                node[standard] = node.pop(python)
    for value in node.values():
        _standard(value)


def _uploads(operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A multipart body's files: a part is sent or left out (there is no null part), of
    the types the server takes."""
    multipart = operation.get("requestBody", {}).get("content", {}).get("multipart/form-data")
    if not multipart:
        return
    properties = schemas[multipart["schema"]["$ref"].rsplit("/", 1)[1]]["properties"]
    files = [name for name, field in properties.items() if "binary" in str(field)]
    for name in files:
        title = properties[name].get("title")
        properties[name] = {"type": "string", "format": "binary", "title": title}
    multipart["encoding"] = {name: {"contentType": UPLOAD_TYPES} for name in files}


def _permissions(app: FastAPI, paths: dict[str, Any]) -> None:
    """Each staff operation names the permission it needs (`x-permission`) and the roles
    that hold it, in its description too."""
    for route in iter_route_contexts(app.routes):
        if route.path not in paths or getattr(route, "dependant", None) is None:
            continue
        permission = declared_permission(route.dependant)
        if permission is None:
            continue
        roles = ", ".join(roles_with(permission))
        for method in route.methods or ():
            operation = paths[route.path].get(method.lower())
            if operation is None:
                continue
            operation["x-permission"] = permission.value
            line = f"Permission: `{permission.value}` (roles: {roles})."
            operation["description"] = f"{operation.get('description', '')}\n\n{line}".strip()


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorResponse"] = ERROR_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                declared = {
                    status: answer.get("description", "")
                    for status, answer in responses.items()
                    if status[0] in "45"
                }
                wanted = declared | _error_responses(operation, method, path)
                for status, description in wanted.items():
                    answer: dict[str, Any] = {
                        "description": description,
                        "content": {"application/json": {"schema": ERROR_REF}},
                    }
                    if status in ("429", "503"):
                        answer["headers"] = RETRY_AFTER
                    responses[status] = answer
                _accepted(path, method, responses)
        _standard(schema)
        _permissions(app, schema.get("paths", {}))
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                _uploads(operation, components)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
