"""The merchant's stores page (`/merchant`): stores with their balances, a new store, its
callback URL, a new API key. Shared by the rest of the cabinet (`api.pages.merchant`): a
session per read, pages never cached.

Every form answers with a redirect (Post/Redirect/Get): a reload shows the page again and
never makes another store or another key. The new key and signing secret are kept for one
showing (`api.pages.once`), never put in a URL. A refused form is shown again with its values
and a message in plain words next to each field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import PlatformDep
from api.errors import domain_status
from api.pages import once
from api.pages.forms import field_errors
from api.pages.render import back, page
from api.pages.session import PageMerchant
from core.errors import DomainError, NotFound
from models.cabinet import StoreBalance
from models.merchants import StoreCreate, StorePublic, StoreUpdate
from models.users import User
from processing.accounts import cabinet, merchants

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
HOME = "/merchant"
PRIVATE = {"Cache-Control": "no-store"}
# The plain words for a store refusal the service names by code, and the field it is about.
REFUSALS = {
    "callback_url_refused": (
        "callback_url",
        "We cannot send callbacks there: the address is private or does not resolve. "
        "Use your shop's public address.",
    ),
}


async def in_session(request: Request, work: Callable[[Session], T]) -> T:
    """`work` in a session of its own, off the event loop."""
    engine = request.app.state.ctx.engine

    def run() -> T:
        with Session(engine, expire_on_commit=False) as session:
            return work(session)

    return await run_in_threadpool(run)


def private_page(
    request: Request, name: str, user: User, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A cabinet page: money and keys, so never kept in a cache."""
    response = page(request, name, user, status_code=status_code, **context)
    response.headers.update(PRIVATE)
    return response


def account(session: Session, user_id: uuid.UUID) -> dict[str, Any]:
    """The merchant's stores (no secrets) and their balances per currency."""
    try:
        rows = merchants.stores(session, user_id=user_id)
        found = cabinet.balances(session, user_id=user_id)
    except NotFound:  # a merchant user without a merchant account has nothing yet
        rows, found = [], []
    stores = [StorePublic.model_validate(row) for row in rows]
    balances: dict[uuid.UUID, list[StoreBalance]] = {store.id: [] for store in stores}
    for balance in found:
        balances.setdefault(balance.store_id, []).append(balance)
    return {"stores": stores, "balances": balances}


def _refusal(exc: DomainError) -> dict[str, str]:
    """A service's refusal next to its field, or for the whole form."""
    field, words = REFUSALS.get(exc.code, ("", exc.message))
    return {field: words}


async def _stores_page(
    request: Request, user: User, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    found = await in_session(request, lambda session: account(session, user.id))
    return private_page(request, "merchant/home.html", user, status_code, **found, **shown)


@router.get(HOME, response_class=HTMLResponse)
async def home(request: Request, user: PageMerchant) -> HTMLResponse:
    """Stores with their balances; a new store, callback URLs and API keys."""
    fresh = await once.take(request, user.id, HOME)
    answer = await _stores_page(request, user, fresh=fresh)
    if fresh is not None:
        once.forget(answer)
    return answer


@router.post("/merchant/stores")
async def create_store(
    request: Request,
    user: PageMerchant,
    platform: PlatformDep,
    name: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
    callback_url: Annotated[str, Form()] = "",
    payin_enabled: Annotated[bool, Form()] = False,
    payout_enabled: Annotated[bool, Form()] = False,
) -> Response:
    """Create a store (the API's rules); its key and signing secret are shown once, next."""
    ctx = request.app.state.ctx
    typed: dict[str, Any] = {"name": name, "currency": currency, "callback_url": callback_url}
    typed |= {"payin_enabled": payin_enabled, "payout_enabled": payout_enabled}
    try:
        body = StoreCreate(
            name=name,
            currency=currency.strip(),
            callback_url=callback_url.strip() or None,
            payin_enabled=payin_enabled,
            payout_enabled=payout_enabled,
        )
        created = await in_session(
            request,
            lambda session: merchants.create_store(
                session,
                user_id=user.id,
                body=body,
                box=ctx.secrets,
                allow_private=ctx.settings.callback_allow_private,
                platform=platform,
            ),
        )
    except ValidationError as exc:
        return await _stores_page(request, user, 422, problems=field_errors(exc), typed=typed)
    except DomainError as exc:
        status = domain_status(exc)
        return await _stores_page(request, user, status, problems=_refusal(exc), typed=typed)
    answer = back(HOME, notice=f"Store {created.name} created")
    shown = {"kind": "created", "name": created.name, "api_key": created.api_key}
    await once.keep(
        request, answer, user.id, HOME, shown | {"signing_secret": created.signing_secret}
    )
    return answer


@router.post("/merchant/stores/{store_id}/callback")
async def set_callback(
    request: Request,
    user: PageMerchant,
    store_id: uuid.UUID,
    callback_url: Annotated[str, Form()] = "",
) -> Response:
    """Change the store's callback URL (the API's PATCH: checked when set; empty removes it)."""
    ctx = request.app.state.ctx
    try:
        body = StoreUpdate(callback_url=callback_url.strip() or None)
        store = await in_session(
            request,
            lambda session: merchants.update_store(
                session,
                user_id=user.id,
                store_id=store_id,
                body=body,
                allow_private=ctx.settings.callback_allow_private,
            ),
        )
    except (ValidationError, DomainError) as exc:
        refused = field_errors(exc) if isinstance(exc, ValidationError) else _refusal(exc)
        status = 422 if isinstance(exc, ValidationError) else domain_status(exc)
        if "callback_url" not in refused:
            return back(HOME, error=" ".join(refused.values()))
        shown = {"store": store_id, "problem": refused["callback_url"], "typed": callback_url}
        return await _stores_page(request, user, status, callback_problem=shown)
    done = "changed" if store.callback_url else "removed"
    return back(HOME, notice=f"Callback URL of {store.name} {done}")


@router.post("/merchant/stores/{store_id}/rotate-key")
async def rotate_key(request: Request, user: PageMerchant, store_id: uuid.UUID) -> Response:
    """A new API key, shown once on the next page; the old one stops working at once."""
    try:
        rotated = await in_session(
            request,
            lambda session: merchants.rotate_api_key(session, user_id=user.id, store_id=store_id),
        )
    except DomainError as exc:
        return back(HOME, error=exc.message)
    answer = back(HOME, notice=f"New API key for {rotated.name}: the old one no longer works")
    shown = {"kind": "rotated", "name": rotated.name, "api_key": rotated.api_key}
    await once.keep(request, answer, user.id, HOME, shown)
    return answer
