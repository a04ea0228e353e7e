"""Connect's vocabulary and payloads: statuses, activity names, workflow ids (standard
library only — workflow files import this module).

Payloads carry ids, never tokens or the bank's secrets (histories are stored in clear).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

BANK_CODES = ("vbank", "abank", "sbank")


class ConnectionStatus(StrEnum):
    """A user's bank as the user sees it (mirrored into `bank_connections`)."""

    not_connected = "not_connected"
    consent_pending = "consent_pending"
    sync_in_progress = "sync_in_progress"
    ready = "ready"
    reconsent_required = "reconsent_required"
    error = "error"


class SyncStatus(StrEnum):
    """How a sync ended; each is also the connection status it leaves behind."""

    ready = "ready"
    reconsent_required = "reconsent_required"
    error = "error"


class ConsentKind(StrEnum):
    accounts = "accounts"
    product_agreements = "product_agreements"


class ConsentStatus(StrEnum):
    pending = "pending"
    authorized = "authorized"
    rejected = "rejected"
    revoked = "revoked"
    expired = "expired"
    # Withdrawn here (never read again), but the bank still gives us the data: the user must
    # revoke it in their bank's app, and the revoke workflow probes until the bank stops.
    revoke_pending = "revoke_pending"


class ConnectActivity(StrEnum):
    """Activity names: workflows refer to activities by name, never by importing them."""

    ensure_token = "connect.ensure_token"  # noqa: S105 - an activity name
    request_consent = "connect.request_consent"
    poll_consent = "connect.poll_consent"
    sign_consent = "connect.sign_consent"
    expire_consent = "connect.expire_consent"
    revoke_consent = "connect.revoke_consent"
    update_connection = "connect.update_connection"
    sync_accounts = "connect.sync_accounts"
    sync_transactions = "connect.sync_transactions"
    sync_agreements = "connect.sync_agreements"
    finish_sync = "connect.finish_sync"
    compute_snapshot = "connect.compute_snapshot"


class ConnectError(StrEnum):
    """ApplicationError types activities raise and workflows / the API branch on."""

    consent_required = "ConsentRequired"
    # The bank still holds an earlier consent of the user for us: a new request would let the
    # user approve a second one (the bank then fails every data call), so none is made.
    earlier_consent_held = "EarlierConsentHeld"
    bank_auth_failed = "BankAuthFailed"
    # The same answer would come again: a bug in our code or a bank answer we cannot read.
    deterministic = "DeterministicError"


# Python errors that retrying cannot fix: a bug, or data that will not change by waiting.
# Activities raise them as they are; retry policies name them non-retryable.
DETERMINISTIC_ERRORS = (
    "TypeError",
    "ValueError",
    "KeyError",
    "AttributeError",
    "LookupError",
    "ValidationError",
    "DataError",  # the database refused a value (too long, out of range): it will again
    "ProgrammingError",
    ConnectError.deterministic.value,
)


class WarningCode(StrEnum):
    """Something optional a bank did not give: the bank is still `ready`."""

    agreements_unavailable = "agreements_unavailable"
    # The agreement request waits for approval on the bank's side ("I approved it" checks).
    agreements_awaiting_approval = "agreements_awaiting_approval"


class OnboardingSignal(StrEnum):
    # "I approved it in my bank": poll and probe now instead of waiting for the backoff.
    consent_check = "consent_check"


class RevokeSignal(StrEnum):
    # "I revoked it in my bank's app": probe now instead of at the next backoff tick.
    check = "revoke_check"


def onboarding_workflow_id(user_id: str) -> str:
    return f"onboarding-{user_id}"


def connect_workflow_id(user_id: str, bank_code: str) -> str:
    """Connecting (or re-consenting) one bank later on, apart from the first onboarding."""
    return f"connect-{user_id}-{bank_code}"


def sync_workflow_id(user_id: str, bank_code: str) -> str:
    """One sync per user and bank at a time: a second start attaches to the running one."""
    return f"sync-{user_id}-{bank_code}"


def revoke_workflow_id(consent_row_id: str) -> str:
    return f"revoke-consent-{consent_row_id}"


@dataclass
class OnboardingInput:
    user_id: str
    banks: list[str]
    allow_sandbox_sign: bool = False
    consent_deadline_seconds: int = 15 * 60
    poll_initial_seconds: float = 2.0
    poll_max_seconds: float = 60.0


@dataclass
class BankWarning:
    code: str  # a WarningCode
    message: str


@dataclass
class BankProgress:
    bank_code: str
    status: str = ConnectionStatus.not_connected
    step: str = "queued"
    progress_pct: int = 0
    last_error: str | None = None
    warnings: list[BankWarning] = field(default_factory=list)


@dataclass
class OnboardingProgress:
    user_id: str
    banks: list[BankProgress] = field(default_factory=list)
    finished: bool = False


@dataclass
class ConnectionUpdate:
    user_id: str
    bank_code: str
    status: str  # a ConnectionStatus
    step: str
    progress_pct: int
    last_error: str | None = None
    synced: bool = False
    warnings: list[BankWarning] | None = None  # None keeps the stored warnings


@dataclass
class ConsentRequest:
    user_id: str
    bank_code: str
    kind: str  # a ConsentKind


@dataclass
class ConsentState:
    """Our consent row (`consent_row_id`), never the bank's consent id."""

    consent_row_id: str
    bank_code: str
    kind: str  # a ConsentKind
    status: str  # a ConsentStatus
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
class AgreementsSynced:
    count: int = 0
    warning: BankWarning | None = None


@dataclass
class TransactionsSynced:
    seen: int = 0
    added: int = 0
    updated: int = 0


@dataclass
class SyncResult:
    user_id: str
    bank_code: str
    status: str  # a SyncStatus
    accounts: int = 0
    transactions_seen: int = 0
    transactions_added: int = 0
    transactions_updated: int = 0
    agreements: int = 0
    error: str | None = None
    warnings: list[BankWarning] = field(default_factory=list)


@dataclass
class FinishSync:
    sync_run_id: str
    result: SyncResult


@dataclass
class SnapshotInput:
    user_id: str


@dataclass
class RevokeInput:
    user_id: str
    consent_row_id: str
    # While the bank still answers with data (revoke_pending): how often to probe it again.
    probe_initial_seconds: float = 60.0
    probe_max_seconds: float = 3600.0
