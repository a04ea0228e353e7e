"""Rate limiting per API key or client IP (slowapi; Redis storage when configured)."""

from __future__ import annotations

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
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


class LoginThrottle:
    """Failed logins per email and per client IP; over the limit, logins answer 429."""

    def __init__(self, settings: Settings) -> None:
        self._per_email = parse(settings.login_rate_limit)
        # One address may front many users (NAT, office), so its allowance is larger.
        self._per_ip = parse(settings.login_ip_rate_limit)
        storage = storage_from_string(settings.redis_url or "memory://")
        self._limiter = FixedWindowRateLimiter(storage)
        self._prefix = settings.redis_key_prefix + "login"

    def _keys(self, email: str, ip: str) -> list[tuple[RateLimitItem, str]]:
        return [(self._per_email, "email:" + email), (self._per_ip, "ip:" + ip)]

    def allowed(self, email: str, ip: str) -> bool:
        return all(self._limiter.test(lim, self._prefix, key) for lim, key in self._keys(email, ip))

    def failed(self, email: str, ip: str) -> None:
        for limit, key in self._keys(email, ip):
            self._limiter.hit(limit, self._prefix, key)
