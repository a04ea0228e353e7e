"""The exchange-rate refresh: a Temporal schedule per task queue runs `RatesRefreshWorkflow`,
whose one activity fetches the provider's rates into the database. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field

RATES_WORKFLOW = "RatesRefreshWorkflow"
REFRESH_RATES_ACTIVITY = "refresh_rates"


def rates_schedule_id(task_queue: str) -> str:
    return f"refresh-rates-{task_queue}"


@dataclass
class RatesRefreshInput:
    # The provider's URL and the age limit of a new pair come from the worker's settings.
    reason: str = "schedule"


@dataclass
class RatesRefreshResult:
    pairs: list[str] = field(default_factory=list)  # "USDT/RUB", … written this run
    # The provider could not be read (host and error kind); the next scheduled run retries.
    error: str | None = None
