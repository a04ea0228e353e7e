"""Temporal activities: database, S3 and HTTP work, built once per worker process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.analytics import AnalyticsActivities
from activities.callbacks import CallbackActivities
from activities.connect import connect_activities
from activities.payin import PayinActivities
from core.context import ServiceContext


def build_activities(ctx: ServiceContext) -> list[Callable[..., Any]]:
    """Every activity the worker registers, bound to this process's clients."""
    payin, callbacks = PayinActivities(ctx), CallbackActivities(ctx)
    processing: list[Callable[..., Any]] = [payin.match_requisite, payin.record_transition]
    processing += [callbacks.prepare_callback, callbacks.deliver_callback]
    processing += [callbacks.finish_callback]
    processing += AnalyticsActivities(ctx).all()
    processing += connect_activities(ctx)
    return [*processing]
