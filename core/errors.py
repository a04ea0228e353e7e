"""Domain errors: what went wrong in business terms, with a stable code.

Services in `processing/` and `connect/` raise these; the API maps each kind to an HTTP
status in one place (`api/errors.py`). Domain code never speaks HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the caller can act on: `code` is stable, `message` says what was wrong."""

    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details


class Invalid(DomainError):
    """The request is well-formed but cannot be done as asked (bad amount, unknown bank)."""


class NotFound(DomainError):
    """The object does not exist, or belongs to someone else (never say which)."""

    code = "not_found"


class Conflict(DomainError):
    """The object's current state does not allow this (already final, key reused)."""

    code = "conflict"


class NotAllowed(DomainError):
    """The caller is known but this action is switched off for them."""

    code = "forbidden"


class TooLarge(DomainError):
    code = "payload_too_large"


class UnsupportedMedia(DomainError):
    code = "unsupported_media_type"


class Unavailable(DomainError):
    """A dependency (workflow engine, bank, storage) cannot be reached right now."""

    code = "service_unavailable"


class Pending(Exception):
    """An action was handed to its workflow but not applied within the wait bound: the API
    answers 202 with the object as it is now (`body`) and where to poll. Not a refusal."""

    def __init__(self, body: Any) -> None:
        super().__init__("The action is accepted and not applied yet")
        self.body = body
