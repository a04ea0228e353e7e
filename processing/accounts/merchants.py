"""Merchant services: stores, their API keys and callback signing secrets."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlmodel import Session, select

from core.errors import Invalid, NotFound
from core.security import SecretBox, generate_api_key, hash_api_key
from models.base import utcnow
from models.merchants import (
    ApiKeyRotated,
    Merchant,
    SigningSecretRotated,
    Store,
    StoreCreate,
    StoreCreated,
    StorePublic,
    StoreUpdate,
)
from models.platform_settings import PlatformValues
from processing.callbacks.signing import CallbackBlockedError, checked_addresses, new_signing_secret
from processing.platform.reference_rules import CURRENCY, require_usable


def merchant_of(session: Session, *, user_id: uuid.UUID) -> Merchant:
    merchant = session.exec(select(Merchant).where(Merchant.owner_user_id == user_id)).first()
    if merchant is None:
        raise NotFound("No merchant account for this user", code="merchant_not_found")
    return merchant


def owned_store(session: Session, *, user_id: uuid.UUID, store_id: uuid.UUID) -> Store:
    merchant = merchant_of(session, user_id=user_id)
    store = session.exec(
        select(Store).where(Store.id == store_id, Store.merchant_id == merchant.id)
    ).first()
    if store is None:
        raise NotFound("Store not found", code="store_not_found")
    return store


def _created(store: Store, api_key: str, signing_secret: str) -> StoreCreated:
    public = StorePublic.model_validate(store)
    return StoreCreated(**public.model_dump(), api_key=api_key, signing_secret=signing_secret)


def allowed_callback_url(url: str | None, allow_private: bool) -> str | None:
    """The URL, if it may receive callbacks now: the SSRF check runs when a URL is set (and
    again, pinned, at every delivery)."""
    if url is not None:
        try:
            checked_addresses(url, allow_private)
        except CallbackBlockedError as exc:
            raise Invalid(
                f"callback_url refused: {exc}", code="callback_url_refused", details={"url": url}
            ) from exc
    return url


STORE_DEFAULTS = {
    "payin_fee_bps",
    "payout_fee_bps",
    "payment_deadline_seconds",
    "trader_deadline_seconds",
}


def create_store(
    session: Session,
    *,
    user_id: uuid.UUID,
    body: StoreCreate,
    box: SecretBox,
    allow_private: bool,
    platform: PlatformValues,
) -> StoreCreated:
    """A new store; its API key and signing secret are shown only in this answer."""
    merchant = merchant_of(session, user_id=user_id)
    require_usable(session, CURRENCY, body.currency, field="currency")
    allowed_callback_url(body.callback_url, allow_private)
    api_key, signing_secret = generate_api_key(), new_signing_secret()
    # The platform's fees and deadlines, unless the merchant chose the deadlines.
    store = Store(
        **platform.model_dump(include=STORE_DEFAULTS) | body.model_dump(exclude_none=True),
        merchant_id=merchant.id,
        api_key_prefix=api_key[:12],
        api_key_hash=hash_api_key(api_key),
        signing_secret_encrypted=box.encrypt(signing_secret),
    )
    session.add(store)
    session.commit()
    session.refresh(store)
    return _created(store, api_key, signing_secret)


def update_store(
    session: Session,
    *,
    user_id: uuid.UUID,
    store_id: uuid.UUID,
    body: StoreUpdate,
    allow_private: bool,
) -> Store:
    """Change what a merchant may change later: the callback URL (null removes it)."""
    store = owned_store(session, user_id=user_id, store_id=store_id)
    if "callback_url" in body.model_fields_set:
        store.callback_url = allowed_callback_url(body.callback_url, allow_private)
    session.add(store)
    session.commit()
    session.refresh(store)
    return store


def stores(session: Session, *, user_id: uuid.UUID) -> list[Store]:
    merchant = merchant_of(session, user_id=user_id)
    return list(session.exec(select(Store).where(Store.merchant_id == merchant.id)).all())


def rotate_api_key(session: Session, *, user_id: uuid.UUID, store_id: uuid.UUID) -> ApiKeyRotated:
    """A new API key; the old one stops working at once."""
    store = owned_store(session, user_id=user_id, store_id=store_id)
    api_key = generate_api_key()
    store.api_key_prefix, store.api_key_hash = api_key[:12], hash_api_key(api_key)
    session.add(store)
    session.commit()
    session.refresh(store)
    return ApiKeyRotated(**StorePublic.model_validate(store).model_dump(), api_key=api_key)


def rotate_signing_secret(
    session: Session,
    *,
    user_id: uuid.UUID,
    store_id: uuid.UUID,
    overlap: timedelta,
    box: SecretBox,
) -> SigningSecretRotated:
    """A new signing secret; the old one keeps signing during the overlap."""
    store = owned_store(session, user_id=user_id, store_id=store_id)
    secret = new_signing_secret()
    if overlap:
        store.previous_signing_secret_encrypted = store.signing_secret_encrypted
        store.previous_signing_secret_expires_at = utcnow() + overlap
    else:
        store.previous_signing_secret_encrypted = None
        store.previous_signing_secret_expires_at = None
    store.signing_secret_encrypted = box.encrypt(secret)
    session.add(store)
    session.commit()
    return SigningSecretRotated(
        signing_secret=secret,
        previous_signing_secret_expires_at=store.previous_signing_secret_expires_at,
    )
