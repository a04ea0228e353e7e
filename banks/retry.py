"""How long the bank client waits between attempts: the retry budget and `Retry-After`.

`RetryPolicy` bounds attempts and total time and spreads retries with jittered exponential
backoff; `retry_after_seconds` reads the header in either of its forms. Standard library
only; the decision of which outcomes are retried is in `banks.transport`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RetryPolicy:
    # Attempts that failed (5xx, transport errors); a 429 is counted apart: the bank's proxy
    # turned the request away before handling it, and the bank said when to come back.
    max_attempts: int = 5
    max_rate_limited: int = 10
    base_delay_s: float = 0.5
    max_delay_s: float = 10.0
    # No retry starts if its wait would end later than this after the first attempt.
    max_total_s: float = 60.0
    # A longer Retry-After is not waited out here: the error goes up (Temporal retries later).
    max_retry_after_s: float = 30.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential with "equal jitter": half fixed, half random."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
