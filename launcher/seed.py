"""Idempotent demo data for `make run`: admin, merchant with a store, traders, Connect user,
and (`seed_fx`) a store settling in USDT, a USDT/RUB rate and a trader's security deposit.

Demo passwords and the store's API key are generated once and kept in the data folder, so
every run prints the same working credentials (local development only).
"""

from __future__ import annotations

import json
import secrets
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from connect.identities import (
    assign_specific,
    ensure_pool,
    get_identity,
    identity_of,
    list_identities,
    pool_names,
)
from core.db import build_engine
from core.security import (
    SecretBox,
    generate_api_key,
    hash_api_key,
    hash_password,
    verify_password,
)
from core.settings import Settings
from launcher.seed_fx import seed_fx
from launcher.seed_mfa import seed_admin_second_factor
from launcher.seed_notifications import seed_notifications
from launcher.seed_processing import seed_processing
from launcher.seed_teams import seed_teams
from models.merchants import Merchant, Store
from models.users import Role, User
from processing.callbacks.signing import new_signing_secret

DEMO_USERS = {
    "admin": ("admin@jivapay.dev", Role.admin),
    "merchant": ("merchant@jivapay.dev", Role.merchant),
    "trader1": ("trader1@jivapay.dev", Role.trader),
    "trader2": ("trader2@jivapay.dev", Role.trader),
    "connect": ("connect@jivapay.dev", Role.connect_user),
    # The statement bridge's demo trader (launcher/seed_bridge.py links their bank).
    "bridge": ("bridge@jivapay.dev", Role.trader),
    # Leads trader1 and trader2 (launcher/seed_teams.py).
    "lead1": ("lead1@jivapay.dev", Role.teamlead),
}
DEMO_STORE = "Demo Store"


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _ensure_user(session: Session, email: str, role: Role, password: str) -> User:
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, password_hash=hash_password(password), role=role)
        session.add(user)
        session.flush()
    elif not verify_password(password, user.password_hash):
        # The credentials file was lost: reset so the printed demo password works.
        user.password_hash = hash_password(password)
        session.add(user)
    return user


def _ensure_store(session: Session, owner: User, box: SecretBox, creds: dict[str, Any]) -> Store:
    merchant = session.exec(select(Merchant).where(Merchant.owner_user_id == owner.id)).first()
    if merchant is None:
        merchant = Merchant(owner_user_id=owner.id, name="Demo Shop")
        session.add(merchant)
        session.flush()
    # By name: the merchant has other stores (the USDT one, any made in the cabinet).
    query = select(Store).where(Store.merchant_id == merchant.id, Store.name == DEMO_STORE)
    store = session.exec(query.order_by(col(Store.created_at))).first()
    known_key = creds.get("store_api_key")
    if store is not None and known_key and store.api_key_hash == hash_api_key(known_key):
        return store
    api_key = generate_api_key()
    creds["store_api_key"] = api_key
    if store is None:
        store = Store(
            name=DEMO_STORE,
            merchant_id=merchant.id,
            api_key_prefix=api_key[:12],
            api_key_hash=hash_api_key(api_key),
            signing_secret_encrypted=box.encrypt(new_signing_secret()),
            payout_enabled=True,
        )
    # A lost credentials file means the old key is unknown: rotate so the printed key works.
    store.api_key_prefix, store.api_key_hash = api_key[:12], hash_api_key(api_key)
    session.add(store)
    session.flush()
    return store


def _demo_callbacks(
    store: Store, box: SecretBox, settings: Settings, creds: dict[str, Any]
) -> None:
    """The demo store's callbacks go to the bundled emulator's merchant inbox (unless its
    owner set another URL), and its signing secret is printed with the other demo
    credentials, so a newcomer can verify a callback (local demo only)."""
    if store.callback_url is None:
        store.callback_url = demo_inbox_url(settings)
    creds["store_signing_secret"] = box.decrypt(store.signing_secret_encrypted)


def demo_inbox_url(settings: Settings) -> str:
    return f"{settings.bundled_emulator_url}/merchant-inbox/callbacks"


def _demo_identity(engine: Engine, settings: Settings, user_id: uuid.UUID) -> None:
    """The demo Connect user holds our team's first sandbox identity (`BANK_CLIENT_ID-1`),
    unless an administrator gave it (or the user another) already."""
    ensure_pool(engine, settings)
    if identity_of(engine, user_id) is not None:
        return
    name = pool_names(settings)[0]
    if get_identity(engine, name).user_id is None:
        assign_specific(engine, name, user_id)


def identities_line(settings: Settings) -> str:
    """The banner's word on the sandbox identities: how many real users can still connect."""
    engine = build_engine(settings)
    try:
        ensure_pool(engine, settings)
        names = set(pool_names(settings))
        pool = [i for i in list_identities(engine) if i.external_client_id in names]
    finally:
        engine.dispose()
    free = sum(1 for i in pool if i.user_id is None)
    return (
        f"  Sandbox identities: {free} of {len(pool)} free for new Connect users "
        f"({settings.bank_client_id}-1…{len(pool)})"
    )


def seed(
    engine: Engine, box: SecretBox, credentials_file: Path, settings: Settings
) -> dict[str, Any]:
    creds = _load(credentials_file)
    passwords: dict[str, str] = creds.setdefault("passwords", {})
    with Session(engine) as session:
        users = {}
        for key, (email, role) in DEMO_USERS.items():
            password = passwords.setdefault(key, secrets.token_urlsafe(12))
            users[key] = _ensure_user(session, email, role, password)
        store = _ensure_store(session, users["merchant"], box, creds)
        creds["store_id"] = str(store.id)
        _demo_callbacks(store, box, settings, creds)
        seed_processing(session, users, box, store)
        seed_teams(session, users)
        seed_admin_second_factor(session, box, users["admin"], creds)
        session.commit()
        user_ids = {key: user.id for key, user in users.items()}
    seed_fx(engine, user_ids, box, settings, creds, demo_inbox_url(settings))
    seed_notifications(engine, user_ids)
    connect_user_id = user_ids["connect"]
    _demo_identity(engine, settings, connect_user_id)
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text(json.dumps(creds, indent=2))
    credentials_file.chmod(0o600)
    return creds
