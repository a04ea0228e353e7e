"""Emulator settings (env vars `BANK_EMULATOR_*`) and the resolved per-bank configuration.

`anchor_date` is the emulator's "today" for generating history: a year of transactions ends
on it. Left unset it is the UTC date at startup, so a long-running emulator keeps serving the
same data; tests pin it so every run sees identical dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ApprovalMode = Literal["auto", "manual"]
BANK_CODES = ("vbank", "abank", "sbank")
BANK_NAMES = {"vbank": "VBank", "abank": "ABank", "sbank": "SBank"}


class FaultConfig(BaseModel):
    """Injected failures; all zero by default. Counters ("next N") run before probabilities."""

    rate_429: float = Field(default=0.0, ge=0.0, le=1.0)
    rate_5xx: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0)
    fail_next_429: int = Field(default=0, ge=0)
    fail_next_5xx: int = Field(default=0, ge=0)
    retry_after_s: int | None = Field(default=1, ge=0)
    status_5xx: int = Field(default=503, ge=500, le=599)


class BankConfig(BaseModel):
    """Everything one emulated bank needs; built from `EmulatorSettings.bank_config`."""

    code: str
    name: str
    team_client_id: str = "team042"
    team_client_secret: SecretStr = SecretStr("emulator-team-secret")
    token_secret: SecretStr
    token_ttl_seconds: int = 86400
    admin_token: SecretStr = SecretStr("emulator-admin")
    approval_mode: ApprovalMode = "auto"
    # Some real bank builds ignore from/to on /transactions; clients must filter themselves.
    ignore_date_filter: bool = False
    # Some builds send timestamps without a zone; both styles must be accepted by clients.
    zoneless_timestamps: bool = False
    # Some builds crash on /product-agreements (500, a NameError in the bank's code).
    agreements_crash: bool = False
    # Off (the default), the emulator is as strict as the real bank code: polling a request
    # id never turns Authorized, there is no agreement-consent sign route, and agreement
    # consents are readable only with a client token. On, it is the friendlier copy.
    friendly: bool = False
    # The bank's own app lists a signed-in client's consents with their `consent-…` ids
    # (`GET /account-consents/my-consents`); off, a build without that route (404).
    user_consent_list: bool = True
    seed: int = 42
    anchor_date: date = Field(default_factory=lambda: datetime.now(UTC).date())
    tx_multiplier: int = Field(default=1, ge=1, le=500)
    clients_count: int = Field(default=10, ge=1, le=99)
    faults: FaultConfig = Field(default_factory=FaultConfig)


class EmulatorSettings(BaseSettings):
    """Environment of `python -m bank_emulator`: prefix `BANK_EMULATOR_`."""

    model_config = SettingsConfigDict(env_prefix="BANK_EMULATOR_", extra="ignore")

    client_id: str = "team042"
    client_secret: SecretStr = SecretStr("emulator-team-secret")
    admin_token: SecretStr = SecretStr("emulator-admin")
    vbank_token_secret: SecretStr = SecretStr("vbank-emulator-signing-secret-0123456789")
    abank_token_secret: SecretStr = SecretStr("abank-emulator-signing-secret-0123456789")
    sbank_token_secret: SecretStr = SecretStr("sbank-emulator-signing-secret-0123456789")
    vbank_approval: ApprovalMode = "auto"
    abank_approval: ApprovalMode = "auto"
    sbank_approval: ApprovalMode = "manual"
    vbank_ignore_date_filter: bool = False
    abank_ignore_date_filter: bool = False
    sbank_ignore_date_filter: bool = False
    # Banks whose /product-agreements answers 500 (as some real builds do).
    agreements_crash_banks: list[str] = Field(default_factory=list)
    # The friendlier behaviours of older emulator versions, for demos only (see BankConfig).
    friendly: bool = False
    # ABank answers with zone-less timestamps so both styles are exercised by default.
    zoneless_banks: list[str] = Field(default_factory=lambda: ["abank"])
    token_ttl_seconds: int = 86400
    seed: int = 42
    anchor_date: date | None = None
    tx_multiplier: int = Field(default=1, ge=1, le=500)
    rate_429: float = Field(default=0.0, ge=0.0, le=1.0)
    rate_5xx: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0)

    def bank_config(self, code: str) -> BankConfig:
        """The resolved configuration of one bank (`vbank`, `abank` or `sbank`)."""
        if code not in BANK_CODES:
            raise ValueError(f"unknown bank {code!r}")
        anchor = self.anchor_date or datetime.now(UTC).date()
        return BankConfig(
            code=code,
            name=BANK_NAMES[code],
            team_client_id=self.client_id,
            team_client_secret=self.client_secret,
            token_secret=getattr(self, f"{code}_token_secret"),
            token_ttl_seconds=self.token_ttl_seconds,
            admin_token=self.admin_token,
            approval_mode=getattr(self, f"{code}_approval"),
            ignore_date_filter=getattr(self, f"{code}_ignore_date_filter"),
            zoneless_timestamps=code in self.zoneless_banks,
            agreements_crash=code in self.agreements_crash_banks,
            friendly=self.friendly,
            seed=self.seed,
            anchor_date=anchor,
            tx_multiplier=self.tx_multiplier,
            faults=FaultConfig(
                rate_429=self.rate_429, rate_5xx=self.rate_5xx, latency_ms=self.latency_ms
            ),
        )
