"""Worker processes' heartbeats: what readiness reads to know a worker is alive."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from models.base import UTCDateTime


class WorkerHeartbeat(SQLModel, table=True):
    """One row per running worker process, written every few seconds while it polls."""

    __tablename__ = "worker_heartbeats"

    worker_id: str = Field(primary_key=True, max_length=200)  # host, pid and a random part
    task_queue: str = Field(max_length=200, index=True)
    beat_at: dt.datetime = Field(sa_type=UTCDateTime)
    started_at: dt.datetime = Field(sa_type=UTCDateTime)
