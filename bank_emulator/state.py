"""In-memory state of one emulated bank: generated data, consents, tokens, faults, counters.

Handlers are async and share one event loop, but admin calls and the generator may also run
from threads (tests, uvicorn's threadpool), so every mutation holds one re-entrant lock.
"""

from __future__ import annotations

import random
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bank_emulator.config import BankConfig, FaultConfig
from bank_emulator.data import Account, ClientData, Transaction
from bank_emulator.history import generate_client

CONSENT_TTL = timedelta(days=365)


@dataclass
class Consent:
    kind: str  # "account" | "product"
    request_id: str
    client_id: str
    permissions: list[str]
    reason: str
    status: str  # Authorized | AwaitingAuthorization | Rejected | Revoked | Expired
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    consent_id: str | None = None
    signed_at: datetime | None = None
    options: dict[str, object] = field(default_factory=dict)

    def effective_status(self, now: datetime) -> str:
        if self.status == "Authorized" and self.expires_at <= now:
            return "Expired"
        return self.status


class BankState:
    """Everything one bank remembers; `reset()` returns it to the configured start."""

    def __init__(self, config: BankConfig):
        self.base_config = config
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.config = self.base_config.model_copy(deep=True)
            self.faults: FaultConfig = self.config.faults.model_copy()
            self.fault_rng = random.Random(f"{self.config.seed}|{self.config.code}|faults")  # noqa: S311
            self.client_multiplier: dict[str, int] = {}
            self._clients: dict[str, ClientData] = {}
            self._added: dict[str, list[Transaction]] = {}
            self.consents: dict[str, Consent] = {}
            self.issued_jtis: set[str] = set()
            self.revoked_jtis: set[str] = set()
            self.stats: Counter[str] = Counter()

    # -- clients and data ---------------------------------------------------------------

    def is_known_client(self, client_id: str) -> bool:
        prefix = f"{self.config.team_client_id}-"
        number = client_id.removeprefix(prefix)
        return (
            client_id.startswith(prefix)
            and number.isdigit()
            and 1 <= int(number) <= self.config.clients_count
        )

    def client(self, client_id: str) -> ClientData:
        """The client's generated data (built on first use, rebuilt after a scale change)."""
        with self.lock:
            data = self._clients.get(client_id)
            if data is None:
                multiplier = self.client_multiplier.get(client_id, self.config.tx_multiplier)
                data = generate_client(
                    self.config.code,
                    client_id,
                    self.config.seed,
                    self.config.anchor_date,
                    multiplier,
                )
                self._clients[client_id] = data
            return data

    def set_multiplier(self, multiplier: int, client_id: str | None) -> None:
        with self.lock:
            if client_id is None:
                self.config.tx_multiplier = multiplier
                self.client_multiplier.clear()
                self._clients.clear()
            else:
                self.client_multiplier[client_id] = multiplier
                self._clients.pop(client_id, None)

    def account(self, client_id: str, account_id: str) -> Account | None:
        return next(
            (a for a in self.client(client_id).accounts if a.account_id == account_id), None
        )

    def transactions(self, client_id: str, account_id: str) -> list[Transaction]:
        """Generated plus run-time transactions of one account, newest first."""
        with self.lock:
            items = list(self.client(client_id).transactions.get(account_id, []))
            items += [t for t in self._added.get(client_id, []) if t.account_id == account_id]
        return sorted(items, key=lambda t: (t.booked_at, t.transaction_id), reverse=True)

    def add_transaction(self, client_id: str, tx: Transaction) -> None:
        with self.lock:
            self._added.setdefault(client_id, []).append(tx)

    def find_transaction(self, client_id: str, transaction_id: str) -> Transaction | None:
        with self.lock:
            data = self.client(client_id)
            pools = [*data.transactions.values(), self._added.get(client_id, [])]
            return next(
                (t for pool in pools for t in pool if t.transaction_id == transaction_id), None
            )

    def balances(self, client_id: str, account: Account) -> tuple[Decimal, Decimal]:
        """(booked, available); for liabilities booked is the debt / used limit."""
        booked = available = account.opening_balance
        for tx in self.transactions(client_id, account.account_id):
            grows = tx.credit != account.is_liability
            delta = tx.amount if grows else -tx.amount
            if tx.status == "Booked":
                booked += delta
                available += delta
            elif tx.status == "Pending" and (delta > 0) == account.is_liability:
                # Pending spending already reduces what can be spent, not the booked balance.
                available += delta
        return booked, available

    # -- consents -----------------------------------------------------------------------

    def new_consent(
        self, kind: str, client_id: str, permissions: list[str], reason: str, auto: bool
    ) -> Consent:
        now = datetime.now(UTC)
        request_prefix, consent_prefix = (
            ("req", "consent") if kind == "account" else ("pagcr", "pagc")
        )
        consent = Consent(
            kind=kind,
            request_id=f"{request_prefix}-{secrets.token_hex(6)}",
            client_id=client_id,
            permissions=list(permissions),
            reason=reason,
            status="AwaitingAuthorization",
            created_at=now,
            updated_at=now,
            expires_at=now + CONSENT_TTL,
        )
        if auto:
            consent.status = "Authorized"
            consent.consent_id = f"{consent_prefix}-{secrets.token_hex(6)}"
        with self.lock:
            self.consents[consent.request_id] = consent
            if consent.consent_id:
                self.consents[consent.consent_id] = consent
        return consent

    def decide(self, consent: Consent, approve: bool) -> Consent:
        """The user's answer to a pending request."""
        now = datetime.now(UTC)
        with self.lock:
            consent.updated_at = consent.signed_at = now
            if approve:
                consent.status = "Authorized"
                prefix = "consent" if consent.kind == "account" else "pagc"
                consent.consent_id = f"{prefix}-{secrets.token_hex(6)}"
                consent.expires_at = now + CONSENT_TTL
                self.consents[consent.consent_id] = consent
            else:
                consent.status = "Rejected"
        return consent

    def revoke(self, consent: Consent) -> None:
        with self.lock:
            consent.status = "Revoked"
            consent.updated_at = datetime.now(UTC)

    def revoke_client(self, client_id: str) -> int:
        with self.lock:
            mine = {id(c): c for c in self.consents.values() if c.client_id == client_id}
            for consent in mine.values():
                self.revoke(consent)
        return len(mine)

    def active_consent(self, consent_id: str | None, kind: str) -> Consent | None:
        """The consent behind an id, if it is a granted, live consent of this kind."""
        consent = self.consents.get(consent_id or "")
        if consent is None or consent.kind != kind or consent.consent_id != consent_id:
            return None
        if consent.effective_status(datetime.now(UTC)) != "Authorized":
            return None
        return consent

    def granted_by_any_id(self, any_id: str | None, kind: str) -> Consent | None:
        """The granted, live consent behind a consent id or the request id it came from."""
        consent = self.consents.get(any_id or "")
        if consent is None or consent.kind != kind or consent.consent_id is None:
            return None
        return self.active_consent(consent.consent_id, kind)

    def active_consents_of(self, client_id: str, kind: str) -> list[Consent]:
        """The client's granted, live consents of this kind (each once: a consent is filed
        under its request id and its consent id)."""
        now = datetime.now(UTC)
        with self.lock:
            unique = {id(c): c for c in self.consents.values()}
        return [
            c
            for c in unique.values()
            if c.kind == kind
            and c.client_id == client_id
            and c.consent_id
            and c.effective_status(now) == "Authorized"
        ]

    def active_consent_of(self, client_id: str, kind: str) -> Consent | None:
        """The client's newest granted, live consent of this kind."""
        live = self.active_consents_of(client_id, kind)
        return max(live, key=lambda c: c.updated_at, default=None)
