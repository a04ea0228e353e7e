"""Our client of the sandbox open-banking API (VBank, ABank, SBank): the mirror of `bank_emulator/`.

`from banks import BankClient` for the client (`client.py`, layered over `transport.py`,
`auth.py`, `consents.py` and `data.py`); the typed models (`wire.py`), errors (`errors.py`),
stores, retry policy and redaction are re-exported here too. Importing this package (or
`banks.wire`, `banks.errors`) does not import httpx: only `BankClient` needs it, and it is
loaded on first use, so workflow and contract modules may import the models and errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from banks.errors import (
    BankAuthError,
    BankBadRequestError,
    BankError,
    BankNotFoundError,
    BankProtocolError,
    BankRateLimitedError,
    BankUnavailableError,
    ConsentRequiredError,
)
from banks.redaction import redact, truncate_utf8
from banks.retry import RetryPolicy
from banks.stores import InMemoryRawLogSink, InMemoryTokenStore, RawLogSink, TokenStore
from banks.wire import (
    AccountCategory,
    AccountConsent,
    BankAccount,
    BankBalance,
    BankCard,
    BankProduct,
    BankToken,
    BankTransaction,
    ConsentRequestResult,
    ConsentSignResult,
    ConsentStatus,
    ProductAgreement,
    ProductAgreementConsent,
    ProductConsentRequestResult,
    RawApiLogEntry,
    TransactionStatus,
)

if TYPE_CHECKING:
    from banks.client import BankClient

__all__ = [
    "AccountCategory",
    "AccountConsent",
    "BankAccount",
    "BankAuthError",
    "BankBadRequestError",
    "BankBalance",
    "BankCard",
    "BankClient",
    "BankError",
    "BankNotFoundError",
    "BankProduct",
    "BankProtocolError",
    "BankRateLimitedError",
    "BankToken",
    "BankTransaction",
    "BankUnavailableError",
    "ConsentRequestResult",
    "ConsentRequiredError",
    "ConsentSignResult",
    "ConsentStatus",
    "InMemoryRawLogSink",
    "InMemoryTokenStore",
    "ProductAgreement",
    "ProductAgreementConsent",
    "ProductConsentRequestResult",
    "RawApiLogEntry",
    "RawLogSink",
    "RetryPolicy",
    "TokenStore",
    "TransactionStatus",
    "redact",
    "truncate_utf8",
]


def __getattr__(name: str) -> Any:
    # BankClient pulls in httpx: loaded when first asked for, never by `import banks.wire`.
    if name == "BankClient":
        from banks.client import BankClient

        return BankClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
