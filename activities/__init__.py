"""Temporal activities: database, S3 and HTTP work, built once per worker process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.context import ServiceContext


def build_activities(ctx: ServiceContext) -> list[Callable[..., Any]]:
    """Every activity the worker registers, bound to this process's clients."""
    return []
