"""Payloads of the analytics, re-categorisation and refresh workflows (standard library only).

`connect.compute_snapshot` itself takes `contracts.connect.SnapshotInput` (the onboarding
workflow calls it); everything else the analytics side adds is declared here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AnalyticsActivity(StrEnum):
    """Activity names: workflows refer to activities by name, never by importing them."""

    recategorise_user = "connect.recategorise_user"
    list_users_with_accounts = "connect.list_users_with_accounts"
    refreshable_banks = "connect.refreshable_banks"
    ensure_refresh_schedule = "connect.ensure_refresh_schedule"
    pause_refresh_schedule = "connect.pause_refresh_schedule"
    resume_refresh_schedule = "connect.resume_refresh_schedule"


# Workflow type names, for schedules and API code that must not import workflow modules.
REFRESH_WORKFLOW = "RefreshWorkflow"

# One re-categorisation run for the whole platform: a newer rule change replaces it.
RECATEGORISE_WORKFLOW_ID = "recategorise-transactions"
USERS_PAGE_SIZE = 200


def refresh_schedule_id(user_id: str) -> str:
    return f"refresh-{user_id}"


@dataclass
class SnapshotResult:
    user_id: str
    snapshot_id: str
    as_of: str  # ISO 8601
    categories_changed: int = 0


@dataclass
class RecategoriseInput:
    user_id: str


@dataclass
class RecategoriseResult:
    user_id: str
    changed: int


@dataclass
class UsersPage:
    after: str | None = None  # exclusive cursor: the last user id of the previous page
    limit: int = USERS_PAGE_SIZE


@dataclass
class UsersPageResult:
    user_ids: list[str] = field(default_factory=list)


@dataclass
class RecategoriseAllInput:
    reason: str = ""
    after: str | None = None  # where a continued-as-new run resumes
    users_done: int = 0
    users_changed: int = 0


@dataclass
class RecategoriseAllResult:
    users_done: int
    users_changed: int


@dataclass
class RefreshInput:
    user_id: str


@dataclass
class RefreshResult:
    user_id: str
    synced: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # a sync of that bank was already running
    reconsent_required: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    snapshot_id: str | None = None


@dataclass
class RefreshScheduleInput:
    user_id: str
    reason: str = ""


@dataclass
class RefreshScheduleState:
    schedule_id: str
    paused: bool
    interval_seconds: int
