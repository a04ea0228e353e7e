"""Staff pages over the records: the audit log (`audit.read`, as `GET /api/admin/audit`), the
platform settings (every staff role reads them, `settings.manage` changes them, as
`/api/admin/settings`), and an order's files (receipts, dispute evidence, pay-out proofs),
opened through a presigned S3 link made per request and audited."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Annotated, Any, Literal, get_args, get_origin

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.audit import action_of, record
from api.pages.forms import FALLBACK, field_errors
from api.pages.render import back, page
from api.pages.session import PageAny, PageStaff, page_allowed
from api.setting_changes import change_setting, reset_setting
from core.errors import DomainError
from core.permissions import Permission, allows
from models.platform_settings import SETTING_BODIES, PlatformValues, SettingKey
from models.users import User
from processing.accounts.audit_log import AuditFilter, actor_by_email, audit_page
from processing.orders.evidence import LINK_SECONDS, viewable_receipt
from processing.platform import settings as platform_settings

router = APIRouter(include_in_schema=False)
AuditReader = Annotated[User, Depends(page_allowed(Permission.audit_read))]
SettingsManager = Annotated[User, Depends(page_allowed(Permission.settings_manage))]
AUDIT_PAGE = 50
SETTINGS = "/admin/settings"
# What a value has to look like, where the validator's own words would not say it.
SHAPES = {
    "number": "Enter a whole number.",
    "list": "Enter whole numbers of seconds separated by commas, like 5, 30, 120.",
    "rate": "Enter a rate like 600/minute (per second, minute, hour or day).",
    "amounts": "Enter each currency as CODE=amount in minor units, like RUB=500000, USD=1000.",
    "choice": "Choose a value from the list.",
}
WHOLE = re.compile(r"^-?[0-9]+$")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_log(
    request: Request,
    user: AuditReader,
    actor: str = "",
    action: str = "",
    target: str = "",
    since: str = "",
    until: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """Who changed what and when, newest first, filtered; values under secret names hidden."""
    typed = {"actor": actor, "action": action, "target": target, "since": since, "until": until}
    problems = {
        name: "Enter a date like 2026-12-31."
        for name in ("since", "until")
        if typed[name] and _day(typed[name]) is None
    }
    ctx = request.app.state.ctx

    def read() -> tuple[list[dict[str, Any]], str | None]:
        with Session(ctx.engine) as session:
            actor_id: uuid.UUID | None = None
            if actor.strip():
                try:
                    actor_id = uuid.UUID(actor.strip())
                except ValueError:
                    actor_id = actor_by_email(session, actor) or uuid.UUID(int=0)
            chosen = AuditFilter(
                actor_id=actor_id,
                action=action.strip()[:200],
                target=target.strip()[:200],
                since=_day(since),
                until=_day(until),
            )
            return audit_page(session, chosen, cursor or None, AUDIT_PAGE)

    entries, next_cursor = await run_in_threadpool(read)
    return page(
        request,
        "admin/audit.html",
        user,
        status_code=422 if problems else 200,
        entries=entries,
        next_cursor=next_cursor,
        typed=typed,
        problems=problems,
        first_page=not cursor,
    )


def _kind(key: SettingKey) -> str:
    annotation = PlatformValues.model_fields[key.value].annotation
    origin = get_origin(annotation)
    if origin is Literal:
        return "choice"
    if origin is list:
        return "list"
    if origin is dict:
        return "amounts"
    return "rate" if annotation is str else "number"


def _shown(value: Any, kind: str) -> str:
    if kind == "list":
        return ", ".join(str(v) for v in value)
    if kind == "amounts":
        return ", ".join(f"{code}={amount}" for code, amount in value.items())
    return str(value)


def _parsed(text: str, kind: str) -> Any:
    """The typed text as the setting's value; what is not a whole number stays text, so the
    API's own validation says what is wrong with it."""
    text = text.strip()
    if kind in ("number",):
        return int(text) if WHOLE.match(text) else text
    if kind == "list":
        return [int(p) if WHOLE.match(p) else p for p in re.split(r"[,\s]+", text) if p]
    if kind == "amounts":
        pairs = [p.split("=", 1) for p in re.split(r"[,\s]+", text) if p]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(kind)
        return {c.strip(): int(a) if WHOLE.match(a.strip()) else a for c, a in pairs}
    return text


def _settings_rows(request: Request) -> list[dict[str, Any]]:
    ctx = request.app.state.ctx
    with Session(ctx.engine) as session:
        listing = platform_settings.listing(session, ctx.settings)
    rows = []
    for item in listing:
        key = SettingKey(item.key)
        kind = _kind(key)
        field = PlatformValues.model_fields[key.value]
        rows.append(
            {
                "key": item.key,
                "kind": kind,
                "value": _shown(item.value, kind),
                "default": _shown(item.default, kind),
                "overridden": item.source == "database",
                "description": item.description,
                "choices": list(get_args(field.annotation)) if kind == "choice" else [],
                "updated_at": item.updated_at,
            }
        )
    return rows


async def _settings_page(
    request: Request, user: User, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    return page(
        request,
        "admin/settings.html",
        user,
        status_code=status_code,
        rows=await run_in_threadpool(_settings_rows, request),
        can_write=allows(user.role.value, Permission.settings_manage),
        **shown,
    )


@router.get("/admin/settings", response_class=HTMLResponse)
async def settings_page(request: Request, user: PageStaff) -> HTMLResponse:
    """Every platform setting: the value in force, the default, and whether it is overridden."""
    return await _settings_page(request, user)


@router.post("/admin/settings/{key}")
async def change(
    request: Request,
    user: SettingsManager,
    key: SettingKey,
    value: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Override one setting as `PUT /api/admin/settings/<key>` does (validated, audited)."""
    kind = _kind(key)
    refused = {"key": key.value, "typed": value}
    try:
        body = SETTING_BODIES[key].model_validate({"value": _parsed(value, kind)})
    except (ValueError, ValidationError) as exc:
        words = field_errors(exc).get("value", FALLBACK) if isinstance(exc, ValidationError) else ""
        problem = words if words and words != FALLBACK else SHAPES[kind]
        return await _settings_page(request, user, 422, refused=refused | {"problem": problem})
    ctx = request.app.state.ctx

    def save() -> None:
        with Session(ctx.engine, expire_on_commit=False) as session:
            # Audited by the session hook, as the API's admin routes are.
            session.info["audit_actor"] = user.id
            session.info["audit_action"] = action_of(request)
            change_setting(request, session, key=key, value=body.value, actor_id=user.id)

    try:
        await run_in_threadpool(save)
    except DomainError:
        return await _settings_page(request, user, 422, refused=refused | {"problem": SHAPES[kind]})
    return back(SETTINGS, notice=f"Saved: {key.value.replace('_', ' ')}")


@router.get("/files/{receipt_id}")
async def open_file(request: Request, user: PageAny, receipt_id: uuid.UUID) -> Response:
    """Open an order's file (receipt, evidence, proof) if you may see it: a link to S3 that
    works for a minute; each opening is audited."""
    ctx = request.app.state.ctx

    def link() -> str:
        with Session(ctx.engine) as session:
            receipt = viewable_receipt(session, receipt_id, user)
        record(
            request, ctx.engine, actor=user.id, target_type="Receipt", target_id=str(receipt.id),
            before={}, after={"viewed": True, "order_id": receipt.order_id},
        )  # fmt: skip
        return str(ctx.storage.presign(receipt.s3_key, LINK_SECONDS))

    answer = RedirectResponse(await run_in_threadpool(link), status_code=303)
    answer.headers["Cache-Control"] = "no-store"
    return answer


@router.post("/admin/settings/{key}/reset")
async def reset(request: Request, user: SettingsManager, key: SettingKey) -> Response:
    """Back to the environment's default, as `DELETE /api/admin/settings/<key>` (audited)."""
    ctx = request.app.state.ctx

    def save() -> None:
        with Session(ctx.engine, expire_on_commit=False) as session:
            session.info["audit_actor"] = user.id
            session.info["audit_action"] = action_of(request)
            reset_setting(request, session, key=key)

    await run_in_threadpool(save)
    return back(SETTINGS, notice=f"Back to the default: {key.value.replace('_', ' ')}")
