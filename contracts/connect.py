"""Payloads of the Connect workflows and activities (standard library only)."""

from __future__ import annotations

from dataclasses import dataclass, field

BANK_CODES = ("vbank", "abank", "sbank")

# Error type names activities raise and workflows / the API branch on.
CONSENT_REQUIRED = "ConsentRequired"
BANK_AUTH_FAILED = "BankAuthFailed"


@dataclass
class OnboardingInput:
    user_id: str
    banks: list[str]
    allow_sandbox_sign: bool = False
    consent_deadline_seconds: int = 15 * 60
    poll_initial_seconds: float = 2.0
    poll_max_seconds: float = 60.0


@dataclass
class BankProgress:
    bank_code: str
    status: str = "not_connected"
    step: str = "queued"
    progress_pct: int = 0
    last_error: str | None = None


@dataclass
class OnboardingProgress:
    user_id: str
    banks: list[BankProgress] = field(default_factory=list)
    finished: bool = False


@dataclass
class ConnectionUpdate:
    user_id: str
    bank_code: str
    status: str
    step: str
    progress_pct: int
    last_error: str | None = None
    synced: bool = False


@dataclass
class ConsentRequest:
    user_id: str
    bank_code: str
    kind: str  # "accounts" | "product_agreements"


@dataclass
class ConsentState:
    consent_row_id: str
    bank_code: str
    kind: str
    status: str  # ConsentStatus value
    auto_approved: bool = False
    reason: str | None = None


@dataclass
class SyncInput:
    user_id: str
    bank_code: str


@dataclass
class AccountRef:
    account_row_id: str
    external_id: str


@dataclass
class AccountSyncInput:
    user_id: str
    bank_code: str
    sync_run_id: str
    account: AccountRef


@dataclass
class AccountsSynced:
    sync_run_id: str
    accounts: list[AccountRef] = field(default_factory=list)


@dataclass
class TransactionsSynced:
    seen: int = 0
    added: int = 0
    updated: int = 0


@dataclass
class SyncResult:
    user_id: str
    bank_code: str
    status: str  # "ready" | "reconsent_required" | "error"
    accounts: int = 0
    transactions_seen: int = 0
    transactions_added: int = 0
    transactions_updated: int = 0
    agreements: int = 0
    error: str | None = None


@dataclass
class FinishSync:
    sync_run_id: str
    result: SyncResult


# Activity names: workflows refer to activities by name so they never import activity code.
ENSURE_TOKEN = "connect.ensure_token"  # noqa: S105 - an activity name
REQUEST_CONSENT = "connect.request_consent"
POLL_CONSENT = "connect.poll_consent"
SIGN_CONSENT = "connect.sign_consent"
EXPIRE_CONSENT = "connect.expire_consent"
UPDATE_CONNECTION = "connect.update_connection"
SYNC_ACCOUNTS = "connect.sync_accounts"
SYNC_TRANSACTIONS = "connect.sync_transactions"
SYNC_AGREEMENTS = "connect.sync_agreements"
FINISH_SYNC = "connect.finish_sync"
COMPUTE_SNAPSHOT = "connect.compute_snapshot"


@dataclass
class SnapshotInput:
    user_id: str


REVOKE_CONSENT = "connect.revoke_consent"


@dataclass
class RevokeInput:
    user_id: str
    consent_row_id: str
