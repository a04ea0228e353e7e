"""A small key-value cache: Redis when REDIS_URL is set, in-process otherwise."""

from __future__ import annotations

import time
from typing import Protocol

import redis.asyncio as aioredis


class Cache(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl_seconds: int) -> None: ...
    async def delete(self, key: str) -> None: ...
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
