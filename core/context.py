"""The long-lived clients a process shares (API requests, worker activities), built once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from core.cache import Cache, build_cache
from core.db import build_engine
from core.security import SecretBox
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

    @classmethod
    def build(cls, settings: Settings) -> ServiceContext:
        return cls(
            settings=settings,
            engine=build_engine(settings),
            temporal=TemporalConnector(settings),
            storage=ObjectStorage(settings),
            cache=build_cache(settings.redis_url, settings.redis_key_prefix),
            secrets=SecretBox(settings.fernet_keys),
        )

    async def close(self) -> None:
        await self.cache.close()
        self.engine.dispose()
