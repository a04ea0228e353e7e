"""The long-lived clients a process shares (API requests, worker activities), built once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core.cache import Cache, VersionedCache, build_cache
from core.db import build_engine
from core.security import SecretBox, configure_password_hashing
from core.settings import Settings
from core.storage import ObjectStorage
from core.temporal import TemporalConnector


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    temporal: TemporalConnector
    storage: ObjectStorage
    cache: Cache
    secrets: SecretBox
    # Reference lists (currencies, banks, …) this process keeps, checked against `cache`.
    reference_cache: VersionedCache

    @classmethod
    def build(cls, settings: Settings) -> ServiceContext:
        configure_password_hashing(settings.argon2_profile)
        cache = build_cache(settings.redis_url, settings.redis_key_prefix)
        return cls(
            settings=settings,
            engine=build_engine(settings),
            temporal=TemporalConnector(settings),
            storage=ObjectStorage(settings),
            cache=cache,
            secrets=SecretBox(settings.fernet_keys),
            reference_cache=VersionedCache(cache, "reference"),
        )

    async def close(self) -> None:
        await self.cache.close()
        self.engine.dispose()
