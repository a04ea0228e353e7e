"""Temporal activities: thin adapters that give workflows the database, S3 and HTTP.

One class per product holds that product's clients (built once per worker process); its
`@activity.defn` methods are the activities. `build_activities` is the one registration.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from activities.bridge import BridgeActivities
from activities.connect import ConnectActivities
from activities.funds import FundsActivities
from activities.notifications import NotificationActivities
from activities.processing import ProcessingActivities
from core.context import ServiceContext


def activity_methods(holder: object) -> list[Callable[..., Any]]:
    """Every `@activity.defn` method of `holder`, bound to it."""
    return [
        getattr(holder, name)
        for name, member in inspect.getmembers(type(holder))
        if hasattr(member, "__temporal_activity_definition")
    ]


def build_activities(ctx: ServiceContext) -> list[Callable[..., Any]]:
    """Every activity the worker registers, bound to this process's clients."""
    connect = ConnectActivities(ctx)
    # The bridge reads bank statements through the same bank clients as Connect's sync.
    holders = (
        ProcessingActivities(ctx),
        FundsActivities(ctx),
        NotificationActivities(ctx),
        connect,
        BridgeActivities(ctx, connect.bank),
    )
    return [method for holder in holders for method in activity_methods(holder)]
