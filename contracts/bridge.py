"""The statement bridge's Temporal contract: the per-trader watch over linked bank accounts.

Standard library only (workflows and the payload converter import it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# Backoff after a rate-limited or failed scan doubles up to this many seconds.
MAX_BACKOFF_S = 600
# Scans per run before continue-as-new keeps the history short.
SCANS_PER_RUN = 200


class BridgeActivity(StrEnum):
    scan_statement = "scan_statement"


class WatchSignal(StrEnum):
    # A pay-in was matched (or a requisite linked): keep watching, even if about to stop.
    kick = "kick"


class WatchStatus(StrEnum):
    """The watch's last word on the trader's bank, shown to the trader."""

    ok = "ok"
    rate_limited = "rate_limited"
    bank_unavailable = "bank_unavailable"
    consent_required = "consent_required"


def statement_watch_id(trader_id: str) -> str:
    return f"statement-watch-{trader_id}"


@dataclass
class WatchInput:
    trader_id: str
    # Carried across continue-as-new: the current delay and the totals so far.
    delay_s: float = 0
    scans: int = 0
    confirmed: int = 0
    scans_per_run: int = SCANS_PER_RUN


@dataclass
class ScanInput:
    trader_id: str


@dataclass
class WatchScan:
    """One scan: what is still open, what it did, and how long to wait for the next."""

    open_work: int
    interval_s: float
    confirmed: int = 0
    suggested: int = 0
    flagged: int = 0
    evidenced: int = 0  # pay-outs given their debit as evidence
    status: str = WatchStatus.ok
    retry_after_s: float | None = None


@dataclass
class WatchSummary:
    trader_id: str
    scans: int
    confirmed: int
