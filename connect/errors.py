"""Connect's refusals, each with the stable code users and workflows see."""

from __future__ import annotations

from core.errors import Conflict, Invalid, NotFound


class UnknownBank(NotFound):
    code = "bank_not_found"

    def __init__(self, bank_code: str) -> None:
        super().__init__(f"Unknown bank {bank_code!r}")


class NoLiveConsent(Conflict):
    """No authorized, unexpired consent: the user must connect (or re-consent) first."""

    code = "consent_required"


class UserNotMapped(Invalid):
    """The user has no sandbox identity at the banks yet."""

    code = "user_not_mapped"


class ConsentNotFound(NotFound):
    code = "consent_not_found"

    def __init__(self) -> None:
        super().__init__("Consent not found")


class AccountNotFound(NotFound):
    code = "account_not_found"

    def __init__(self) -> None:
        super().__init__("Account not found")


class NoSandboxIdentity(Conflict):
    """Every sandbox end user of our team is held by another user of ours."""

    code = "no_sandbox_identity"

    def __init__(self) -> None:
        super().__init__(
            "No sandbox bank identity is free for this user; an administrator must free one"
        )


class IdentityNotFound(NotFound):
    code = "identity_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"Sandbox identity {name!r} not found")


class EarlierConsentHeld(Conflict):
    """The bank still gives us the user's data under an earlier consent: asking for a new
    one would let the user approve a second, and the bank fails every data call then."""

    code = "earlier_consent_held"


class ConsentRevokePending(Conflict):
    """A consent is withdrawn here but the bank still answers with the user's data."""

    code = "consent_revoke_pending"
