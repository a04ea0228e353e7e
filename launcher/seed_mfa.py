"""The demo administrator's second factor: a fixed, published TOTP secret so the banner can
print it (a local demo only; a real administrator enrols with a secret nobody else saw)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core.security import SecretBox
from models.base import utcnow
from models.mfa import SecondFactor
from models.users import User

# Public on purpose (it is in this file and the banner): never a real account's secret.
DEMO_ADMIN_TOTP_SECRET = "JIVAPAYDEMOADMINSECRETTOTP234567"  # noqa: S105 - a published demo


def seed_admin_second_factor(
    session: Session, box: SecretBox, admin: User, creds: dict[str, Any]
) -> None:
    """Give the demo admin the demo secret, unless it has a second factor already (another
    administrator reset it and it enrolled again: then the banner says so)."""
    factor = session.get(SecondFactor, admin.id)
    if factor is None:
        factor = SecondFactor(
            user_id=admin.id,
            secret_encrypted=box.encrypt(DEMO_ADMIN_TOTP_SECRET),
            confirmed_at=utcnow(),
        )
        session.add(factor)
        session.flush()
    demo = factor.confirmed_at is not None and (
        box.decrypt(factor.secret_encrypted) == DEMO_ADMIN_TOTP_SECRET
    )
    creds["admin_totp_secret"] = DEMO_ADMIN_TOTP_SECRET if demo else None


def mfa_lines(credentials: dict[str, object]) -> list[str]:
    secret = credentials.get("admin_totp_secret")
    if not secret:
        return ["  admin second factor: enrolled by its holder (not the demo secret)"]
    return [
        f"  admin second factor — DEMO secret, local only: {secret}",
        "    add it to an authenticator app, or get the current code with",
        f"    .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('{secret}').now())\"",
    ]
