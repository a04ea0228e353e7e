"""Rate limits that apply: per client IP before authentication, per validated store on the
gateway, per user on the cabinets, and failed logins (per email, per email and address, per
address).

Built on the maintained `limits` package (fixed windows; Redis storage when `REDIS_URL` is
set, so every API process shares the counts; memory otherwise). Over a limit the request is
answered 429 `rate_limited` with `Retry-After` (seconds until the window resets). The limits
are settings: `IP_RATE_LIMIT`, `API_RATE_LIMIT` (per store), `USER_RATE_LIMIT` (which an
administrator may override at run time, see `processing.platform.settings`),
`LOGIN_RATE_LIMIT`, `LOGIN_PAIR_RATE_LIMIT` and `LOGIN_IP_RATE_LIMIT` (failed logins).
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import Any

import redis.asyncio as aioredis
from limits import RateLimitItem, parse, parse_many
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string
from starlette.requests import Request

from api.errors import AppError
from core.addresses import client_address
from core.cache import close_pool
from core.settings import Settings
from models.platform_settings import PlatformValues


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int, *, code: str | None = None) -> None:
        super().__init__(
            message,
            code=code,
            details={"retry_after_seconds": retry_after_s},
            headers={"Retry-After": str(retry_after_s)},
        )


def _storage(settings: Settings) -> tuple[Any, aioredis.ConnectionPool | None]:
    """The counter store, and the Redis connections it uses (ours to close: the `limits`
    storage has no close of its own)."""
    if settings.redis_url:
        pool = aioredis.ConnectionPool.from_url(settings.redis_url)
        uri = "async+" + settings.redis_url
        options: dict[str, Any] = {"connection_pool": pool}
        return storage_from_string(uri, implementation="redispy", **options), pool
    return storage_from_string("async+memory://"), None


def client_ip(request: Request) -> str:
    """The client's address in its one form: however it was written, one counter."""
    return client_address(request.client.host if request.client else None)


class RateLimits:
    """The configured limits and one shared counter store."""

    def __init__(self, settings: Settings) -> None:
        storage, self._pool = _storage(settings)
        self._limiter = FixedWindowRateLimiter(storage)
        self._prefix = settings.redis_key_prefix + "ratelimit"
        self.failed_logins_per_email = parse(settings.login_rate_limit)
        # Whether an address failed on an email within the email's window: one failure.
        self.failed_recently = type(self.failed_logins_per_email)(
            1, self.failed_logins_per_email.multiples
        )
        self.failed_logins_per_pair = parse_many(settings.login_pair_rate_limit)
        # One address may front many users (NAT, office), so its allowance is larger.
        self.failed_logins_per_ip = parse(settings.login_ip_rate_limit)

    async def close(self) -> None:
        """Close the Redis connections at the app's shutdown (see `close_pool`)."""
        if self._pool is not None:
            await close_pool(self._pool)

    async def hit(self, rate: str, key: str, what: str) -> None:
        """Count one request against `rate` ("600/minute"); RateLimited (429 + Retry-After)
        when over it."""
        item = _parsed(rate)
        if not await self._limiter.hit(item, self._prefix, key):
            raise RateLimited(f"Too many requests {what}; retry later", await self.wait(item, key))

    async def wait(self, item: RateLimitItem, key: str) -> int:
        stats = await self._limiter.get_window_stats(item, self._prefix, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    # -- failed logins: counted on failure only, checked before every attempt -------------
    # The email's own limit refuses nobody by itself: that would let anyone who knows an
    # email lock its owner out. Past it, an address that failed on the email in its window
    # waits; any other may try (a spread-out attacker: one guess per fresh address).

    def _login_keys(self, email: str, ip: str) -> dict[str, list[tuple[RateLimitItem, str]]]:
        pair = f"login-pair:{email}|{ip}"
        return {
            "always": [
                (self.failed_logins_per_ip, "login-ip:" + ip),
                *((item, pair) for item in self.failed_logins_per_pair),
            ],
            "email": [(self.failed_logins_per_email, "login-email:" + email)],
            "recent": [(self.failed_recently, "login-recent:" + pair)],
        }

    async def _over(self, checks: list[tuple[RateLimitItem, str]]) -> list[int]:
        return [
            await self.wait(item, key)
            for item, key in checks
            if not await self._limiter.test(item, self._prefix, key)
        ]

    async def login_wait(self, email: str, ip: str) -> int | None:
        """Seconds until this address may try this email again, or None when it may now."""
        keys = self._login_keys(email, ip)
        waits = await self._over(keys["always"])
        if await self._over(keys["email"]):
            waits += await self._over(keys["recent"])
        return max(waits) if waits else None

    async def login_failed(self, email: str, ip: str) -> None:
        for checks in self._login_keys(email, ip).values():
            for item, key in checks:
                await self._limiter.hit(item, self._prefix, key)


@lru_cache(maxsize=64)
def _parsed(rate: str) -> RateLimitItem:
    return parse(rate)


def limits_of(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


async def platform_of(request: Request) -> PlatformValues:
    """The platform settings in force (the environment's, overridden by an administrator)."""
    values: PlatformValues = await request.app.state.platform_settings.current()
    return values


async def limit_by_ip(request: Request) -> None:
    """Every API request, before authentication: random keys or tokens cannot dodge it."""
    if request.url.path.startswith("/api/"):
        rates = await platform_of(request)
        await limits_of(request).hit(
            rates.ip_rate_limit, "ip:" + client_ip(request), "from this address"
        )
