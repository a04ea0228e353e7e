"""Typed errors of the bank client: one class per kind of failure, each with a stable `code`.

Standard library only, so workflow code and Temporal payload modules may import them safely.
"""

from __future__ import annotations

from typing import ClassVar


class BankError(Exception):
    """A bank call that failed; `code` is stable and safe to show or map to Temporal types.

    Messages carry the bank, method, path (redacted) and the bank's own error text, never
    tokens or secrets.
    """

    code: ClassVar[str] = "bank_error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, bank_code: str, status_code: int | None = None):
        super().__init__(message)
        self.bank_code = bank_code
        self.status_code = status_code


class BankAuthError(BankError):
    code = "bank_auth_failed"


class ConsentRequiredError(BankError):
    """403 CONSENT_REQUIRED: no consent, or it was revoked, expired or lacks a permission."""

    code = "bank_consent_required"


class BankRateLimitedError(BankError):
    code = "bank_rate_limited"
    retryable = True

    def __init__(self, message: str, *, bank_code: str, retry_after_s: float | None = None):
        super().__init__(message, bank_code=bank_code, status_code=429)
        self.retry_after_s = retry_after_s


class BankUnavailableError(BankError):
    """5xx, timeouts and connection failures that outlasted our retries."""

    code = "bank_unavailable"
    retryable = True


class BankBadRequestError(BankError):
    code = "bank_bad_request"


class BankNotFoundError(BankBadRequestError):
    code = "bank_not_found"


class BankProtocolError(BankError):
    """A response we cannot read (not JSON, or a required field is missing)."""

    code = "bank_bad_response"
