"""Rate limiting per API key or client IP (slowapi; Redis storage when configured)."""

from __future__ import annotations

from slowapi import Limiter
from slowapi.util import get_remote_address
from starlette.requests import Request

from core.security import hash_api_key
from core.settings import Settings


def rate_limit_key(request: Request) -> str:
    api_key = request.headers.get("x-api-key")
    # Keyed by the key's hash so the raw key never reaches the limiter's storage.
    return "key:" + hash_api_key(api_key)[:16] if api_key else "ip:" + get_remote_address(request)


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=rate_limit_key,
        default_limits=[settings.api_rate_limit],
        storage_uri=settings.redis_url or "memory://",
        key_prefix=settings.redis_key_prefix + "ratelimit",
        headers_enabled=False,
    )
