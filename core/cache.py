"""A small key-value cache: Redis when REDIS_URL is set, in-process otherwise."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class Cache(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...
    async def delete(self, key: str) -> None: ...
    async def pop(self, key: str) -> str | None: ...
    async def incr(self, key: str) -> int: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self._items: dict[str, tuple[float, str]] = {}

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        return item[1]

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._items[key] = (time.monotonic() + ttl_seconds, value)

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    async def pop(self, key: str) -> str | None:
        """The value, removed: a second call finds nothing."""
        value = await self.get(key)
        self._items.pop(key, None)
        return value

    async def incr(self, key: str) -> int:
        """The key's number plus one (a missing key counts as 0); it never expires."""
        value = int(await self.get(key) or 0) + 1
        self._items[key] = (math.inf, str(value))
        return value

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._items.clear()


class RedisCache:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = aioredis.from_url(url, decode_responses=True, socket_timeout=2)
        self._prefix = prefix

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def set(self, key: str, value: str, ttl_seconds: int) -> None:
        await self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def pop(self, key: str) -> str | None:
        # GETDEL is one command: two readers at once cannot both get the value.
        value = await self._redis.getdel(self._prefix + key)
        return None if value is None else str(value)

    async def incr(self, key: str) -> int:
        return int(await self._redis.incr(self._prefix + key))

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        await self._redis.aclose()
        await close_pool(self._redis.connection_pool)


async def close_pool(pool: aioredis.ConnectionPool) -> None:
    """Disconnect a pool and forget its connections. A pool that still lists connections
    imports a module when it is garbage-collected (redis-py's `__del__`); when that happens
    inside a Temporal sandbox's import, Python 3.11's module locks break (KeyError) and the
    workflow being loaded fails. An emptied pool imports nothing."""
    await pool.aclose()
    pool.reset()


def build_cache(redis_url: str | None, prefix: str) -> Cache:
    return RedisCache(redis_url, prefix) if redis_url else MemoryCache()


class VersionedCache:
    """Values a process keeps in its own memory, trusted only while a version number in the
    shared cache is still the one they were loaded at. A writer bumps the number after its
    commit; every process's next read (one GET of the number) sees it and reloads, so a change
    reaches every process at once (with Redis; in one process without it).

    The number is read before the value is loaded: a change committed meanwhile bumps it
    past the copy's, so the next read reloads. `ttl_seconds` bounds a copy's age for writes
    that bump nothing (a migration, a hand-made SQL change) and while the shared cache is
    unreachable, when each process serves its own copy up to that age (degrade, don't fail).
    """

    def __init__(self, shared: Cache, name: str) -> None:
        self._shared = shared
        self._version_key = f"version:{name}"
        self._copies: dict[str, tuple[str | None, float, str]] = {}

    async def _version(self) -> str | None:
        try:
            return await self._shared.get(self._version_key) or "0"
        except (RedisError, OSError) as exc:
            log.warning("cache version %s unreadable: %s", self._version_key, type(exc).__name__)
            return None

    async def get(self, key: str, ttl_seconds: float, load: Callable[[], Awaitable[str]]) -> str:
        version = await self._version()
        copy = self._copies.get(key)
        fresh = copy is not None and copy[1] > time.monotonic()
        if copy is not None and fresh and (version is None or copy[0] == version):
            return copy[2]
        value = await load()
        self._copies[key] = (version, time.monotonic() + ttl_seconds, value)
        return value

    async def bump(self) -> None:
        """Every process's copies are out of date from now on (call after the commit)."""
        try:
            await self._shared.incr(self._version_key)
        except (RedisError, OSError) as exc:
            # The change is committed; other processes see it once their copies age out.
            log.warning("cache version %s not bumped: %s", self._version_key, type(exc).__name__)
        self._copies.clear()
