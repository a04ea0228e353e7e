"""Passwords, JWT access tokens, API keys and secrets at rest."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property

import jwt
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core.settings import Settings

PASSWORD_PROFILES = {
    "rfc9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
    "cheapest": profiles.CHEAPEST,
}


class _Hashing:
    """The process's password hasher (set from the settings when a context is built) and the
    hash an unknown email is verified against, made with the same parameters so that such a
    login costs what a wrong password does."""

    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.hasher = PasswordHasher.from_parameters(PASSWORD_PROFILES[profile])

    @cached_property
    def dummy(self) -> str:
        return self.hasher.hash("timing-equaliser-not-a-password")


_hashing = _Hashing("rfc9106_low_memory")


def configure_password_hashing(profile: str) -> None:
    """Use `profile`'s parameters for new hashes (Settings.argon2_profile)."""
    global _hashing
    if profile != _hashing.profile:
        _hashing = _Hashing(profile)


def current_password_profile() -> str:
    return _hashing.profile


def hash_password(password: str) -> str:
    return _hashing.hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    hashing = _hashing
    try:
        return hashing.hasher.verify(password_hash or hashing.dummy, password) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    role: str


class InvalidTokenError(Exception):
    """The bearer token is malformed, expired, or not ours."""


def create_access_token(settings: Settings, user_id: uuid.UUID, role: str) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=settings.jwt_ttl_seconds),
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, settings.jwt_secrets[0], settings.jwt_algorithm)


def decode_access_token(settings: Settings, token: str) -> TokenClaims:
    failure: Exception = InvalidTokenError("no key")
    # During a rotation tokens signed with the previous secret stay valid until they expire.
    for secret in settings.jwt_secrets:
        try:
            # The algorithm list is pinned: `alg: none` or another algorithm is rejected.
            claims = jwt.decode(
                token,
                secret,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
            return TokenClaims(user_id=uuid.UUID(claims["sub"]), role=str(claims["role"]))
        except jwt.InvalidSignatureError as exc:
            failure = exc
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise InvalidTokenError(type(exc).__name__) from exc
    raise InvalidTokenError(type(failure).__name__) from failure


API_KEY_PREFIX = "jp_live_"


def generate_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(api_key: str) -> str:
    # API keys carry 256 bits of entropy, so a fast hash is enough (no brute force possible).
    return hashlib.sha256(api_key.encode()).hexdigest()


class SecretBox:
    """Fernet encryption for secrets at rest (signing secrets, card numbers, bank tokens).

    Several keys, newest first (MultiFernet): the first encrypts, any decrypts, and
    `rotate` re-encrypts a value under the first key (see `launcher.rotate_keys`).
    """

    def __init__(self, keys: str | list[str]) -> None:
        listed = [keys] if isinstance(keys, str) else keys
        self._fernet = MultiFernet([Fernet(key.encode()) for key in listed])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured key") from exc

    def rotate(self, ciphertext: str) -> str:
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured key") from exc


def mask_number(number: str) -> str:
    """Card, account or phone number shown as its last four digits only."""
    digits = "".join(ch for ch in number if ch.isdigit())
    return "****" + digits[-4:] if len(digits) >= 4 else "****"
