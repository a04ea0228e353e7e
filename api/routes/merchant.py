"""A merchant's stores and their API keys."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from fastapi import APIRouter, status
from sqlmodel import Session, select

from api.deps import ContextDep, CurrentMerchant, SessionDep
from api.errors import NotFoundError
from core.security import generate_api_key, hash_api_key
from models.base import utcnow
from models.merchants import (
    Merchant,
    SigningSecretRotated,
    SigningSecretRotation,
    Store,
    StoreCreate,
    StoreCreated,
    StorePublic,
)
from models.users import User

router = APIRouter()


def merchant_of(session: Session, user: User) -> Merchant:
    merchant = session.exec(select(Merchant).where(Merchant.owner_user_id == user.id)).first()
    if merchant is None:
        raise NotFoundError("No merchant account for this user", code="merchant_not_found")
    return merchant


def _owned_store(session: Session, user: User, store_id: uuid.UUID) -> Store:
    merchant = merchant_of(session, user)
    store = session.exec(
        select(Store).where(Store.id == store_id, Store.merchant_id == merchant.id)
    ).first()
    if store is None:
        raise NotFoundError("Store not found", code="store_not_found")
    return store


def _created(store: Store, api_key: str, signing_secret: str) -> StoreCreated:
    public = StorePublic.model_validate(store)
    return StoreCreated(**public.model_dump(), api_key=api_key, signing_secret=signing_secret)


@router.post("/stores", status_code=status.HTTP_201_CREATED, response_model=StoreCreated)
def create_store(
    body: StoreCreate, session: SessionDep, ctx: ContextDep, user: CurrentMerchant
) -> StoreCreated:
    """Create a store; its API key and signing secret are shown only in this response."""
    merchant = merchant_of(session, user)
    api_key, signing_secret = generate_api_key(), "whsec_" + secrets.token_urlsafe(32)
    store = Store(
        **body.model_dump(),
        merchant_id=merchant.id,
        api_key_prefix=api_key[:12],
        api_key_hash=hash_api_key(api_key),
        signing_secret_encrypted=ctx.secrets.encrypt(signing_secret),
    )
    session.add(store)
    session.commit()
    session.refresh(store)
    return _created(store, api_key, signing_secret)


@router.get("/stores", response_model=list[StorePublic])
def list_stores(session: SessionDep, user: CurrentMerchant) -> list[Store]:
    """The merchant's stores (no secrets)."""
    merchant = merchant_of(session, user)
    return list(session.exec(select(Store).where(Store.merchant_id == merchant.id)).all())


@router.post("/stores/{store_id}/rotate-key", response_model=StoreCreated)
def rotate_key(
    store_id: uuid.UUID, session: SessionDep, ctx: ContextDep, user: CurrentMerchant
) -> StoreCreated:
    """Issue a new API key; the old one stops working at once."""
    store = _owned_store(session, user, store_id)
    api_key = generate_api_key()
    store.api_key_prefix, store.api_key_hash = api_key[:12], hash_api_key(api_key)
    session.add(store)
    session.commit()
    session.refresh(store)
    return _created(store, api_key, ctx.secrets.decrypt(store.signing_secret_encrypted))


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
    store = _owned_store(session, user, store_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    if overlap:
        store.previous_signing_secret_encrypted = store.signing_secret_encrypted
        store.previous_signing_secret_expires_at = utcnow() + overlap
    else:
        store.previous_signing_secret_encrypted = None
        store.previous_signing_secret_expires_at = None
    store.signing_secret_encrypted = ctx.secrets.encrypt(secret)
    session.add(store)
    session.commit()
    return SigningSecretRotated(
        signing_secret=secret,
        previous_signing_secret_expires_at=store.previous_signing_secret_expires_at,
    )
