"""A merchant's stores and their API keys."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, status

from api.deps import ContextDep, CurrentMerchant, PlatformDep, SessionDep
from models.merchants import (
    ApiKeyRotated,
    SigningSecretRotated,
    SigningSecretRotation,
    Store,
    StoreCreate,
    StoreCreated,
    StorePublic,
    StoreUpdate,
)
from processing.accounts import merchants

router = APIRouter()


@router.post("/stores", status_code=status.HTTP_201_CREATED, response_model=StoreCreated)
def create_store(
    body: StoreCreate,
    session: SessionDep,
    ctx: ContextDep,
    user: CurrentMerchant,
    platform: PlatformDep,
) -> StoreCreated:
    """Create a store; its API key and signing secret are shown only in this response. Fees
    are the platform's defaults (an administrator changes them per store)."""
    return merchants.create_store(
        session,
        user_id=user.id,
        body=body,
        box=ctx.secrets,
        allow_private=ctx.settings.callback_allow_private,
        platform=platform,
    )


@router.patch("/stores/{store_id}", response_model=StorePublic)
def update_store(
    store_id: uuid.UUID,
    body: StoreUpdate,
    session: SessionDep,
    ctx: ContextDep,
    user: CurrentMerchant,
) -> Store:
    """Change the store's callback URL (checked when set; null removes it)."""
    return merchants.update_store(
        session,
        user_id=user.id,
        store_id=store_id,
        body=body,
        allow_private=ctx.settings.callback_allow_private,
    )


@router.get("/stores", response_model=list[StorePublic])
def list_stores(session: SessionDep, user: CurrentMerchant) -> list[Store]:
    """The merchant's stores (no secrets)."""
    return merchants.stores(session, user_id=user.id)


@router.post("/stores/{store_id}/rotate-key", response_model=ApiKeyRotated)
def rotate_key(store_id: uuid.UUID, session: SessionDep, user: CurrentMerchant) -> ApiKeyRotated:
    """Issue a new API key; the old one stops working at once. The signing secret is not
    shown again (rotate it with rotate-signing-secret)."""
    return merchants.rotate_api_key(session, user_id=user.id, store_id=store_id)


@router.post("/stores/{store_id}/rotate-signing-secret", response_model=SigningSecretRotated)
def rotate_signing_secret(
    store_id: uuid.UUID,
    session: SessionDep,
    ctx: ContextDep,
    user: CurrentMerchant,
    body: SigningSecretRotation | None = None,
) -> SigningSecretRotated:
    """New callback signing secret; the old one keeps signing during the overlap."""
    overlap = timedelta(hours=(body or SigningSecretRotation()).overlap_hours)
    return merchants.rotate_signing_secret(
        session, user_id=user.id, store_id=store_id, overlap=overlap, box=ctx.secrets
    )
