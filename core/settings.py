"""The one settings object, read by the API, the worker and the launcher.

Values come from environment variables (and an optional `.env`); workflows never read
settings directly, they get what they need through their inputs.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.processing import DEFAULT_CALLBACK_DELAYS_S

DEFAULT_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"  # noqa: S105
# A valid Fernet key that is refused outside development, like the JWT default.
DEFAULT_FERNET_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS1jaGFuZ2UtbWUtMDA="

ROOT_DIR = Path(__file__).resolve().parent.parent
BANKS = ("vbank", "abank", "sbank")
# The ports PORT_OFFSET moves (a metrics port of 0, switched off, stays 0).
OFFSET_PORTS = (
    "temporal_ui_port",
    "worker_sdk_metrics_port",
    "worker_app_metrics_port",
    "seaweed_master_port",
    "seaweed_volume_port",
    "seaweed_filer_port",
    "seaweed_admin_port",
    "api_port",
    "bank_emulator_port",
    "telegram_standin_port",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = ROOT_DIR / ".data"
    log_level: str = "INFO"
    # JSON lines for machines; None picks readable console lines in development only.
    log_format: Literal["json", "console"] | None = None
    sentry_dsn: str | None = None
    # Argon2id parameters for passwords and recovery codes: RFC 9106's low-memory profile
    # (64 MiB, 3 passes). `cheapest` is for the test suite only (refused elsewhere); a stored
    # hash carries its own parameters, so either verifies what the other wrote.
    argon2_profile: Literal["rfc9106_low_memory", "cheapest"] = "rfc9106_low_memory"

    # Storage. Empty DATABASE_URL means the embedded SQLite file under data_dir.
    database_url: str = ""
    db_pool_size: int = 10
    redis_url: str | None = None
    redis_key_prefix: str = "jivapay:"

    # Moves every port the local platform binds, and every address derived from one, by
    # this much (a second platform on the same host: PORT_OFFSET=100). A port or address set
    # explicitly stays as given.
    port_offset: int = Field(default=0, ge=0, le=9000)

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "jivapay"
    temporal_ui_port: int = 8233
    # Worker metrics: the Temporal SDK's own (task latency, slots, polls) and ours (business).
    worker_metrics_host: str = "127.0.0.1"
    worker_sdk_metrics_port: int = Field(default=9464, ge=0, le=65535)  # 0 = off
    worker_app_metrics_port: int = Field(default=9465, ge=0, le=65535)  # 0 = off
    # Each worker writes a heartbeat this often; readiness counts a worker alive while its
    # last one is at most `worker_stale_seconds` old (a killed worker shows within that).
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0, le=60)
    worker_stale_seconds: float = Field(default=15.0, gt=0, le=600)

    s3_endpoint_url: str = "http://127.0.0.1:8333"
    # SeaweedFS's own ports under `make run` (each gRPC twin is the port + 10000): change them
    # to run a second platform on the same host.
    seaweed_master_port: int = Field(default=9333, ge=1, le=55535)
    seaweed_volume_port: int = Field(default=9340, ge=1, le=55535)
    seaweed_filer_port: int = Field(default=8888, ge=1, le=55535)
    seaweed_admin_port: int = Field(default=23646, ge=1, le=55535)
    s3_bucket: str = "jivapay"
    s3_access_key: str = "jivapay"
    s3_secret_key: SecretStr = SecretStr("jivapay-local-secret")
    s3_region: str = "us-east-1"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses
    # or networks, comma-separated (uvicorn's `forwarded_allow_ips`). Empty: none, so every
    # client is the address it connects from. uvicorn's own default trusts loopback, which
    # let any local client name the address that per-address limits count.
    forwarded_allow_ips: str = ""
    # On SIGTERM, `/health` and `/ready` answer 503 `draining` at once and the API goes on
    # serving this long before uvicorn closes its listener: the balancer's health check takes
    # the replica out first (docs/operations.md, "Rolling restart"). 0: stop at once.
    shutdown_drain_seconds: float = Field(default=2.0, ge=0, le=120)
    public_base_url: str = "http://127.0.0.1:8000"

    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "jivapay"
    jwt_audience: str = "jivapay-api"
    jwt_ttl_seconds: int = 3600
    # Fernet keys for secrets at rest (store signing secrets, requisite numbers, bank tokens),
    # comma-separated, newest first: the first encrypts, any decrypts (key rotation).
    fernet_key: SecretStr = SecretStr(DEFAULT_FERNET_KEY)
    # Keyed hash of requisite numbers ("one number, one requisite"); unset = the oldest Fernet
    # key. Set it explicitly before that key is retired, or every fingerprint changes.
    fingerprint_key: SecretStr | None = None

    # Limits ("N/second|minute|hour|day"); over one: 429 rate_limited with Retry-After.
    # Failed logins. Per email: past it, only an address that has not failed on that email
    # in the window may try (so an attacker cannot lock the owner out). Per email from one
    # address: each step waits longer (growing delays). Per address, over all emails.
    login_rate_limit: str = "10/minute"
    login_pair_rate_limit: str = "5/minute;20/hour;100/day"
    login_ip_rate_limit: str = "100/minute"
    ip_rate_limit: str = "1200/minute"  # every /api request per client address
    api_rate_limit: str = "600/minute"  # gateway requests per store (validated API key)
    user_rate_limit: str = "300/minute"  # cabinet requests per signed-in user

    # Platform defaults. An administrator may override each at run time (PUT
    # /api/admin/settings/{key}, audited); these values apply to whatever is not overridden.
    payment_deadline_seconds: int = Field(default=900, ge=60, le=86_400)  # new stores
    trader_deadline_seconds: int = Field(default=1800, ge=60, le=86_400)  # new stores
    payin_fee_bps: int = Field(default=300, ge=0, le=10_000)  # new stores
    payout_fee_bps: int = Field(default=300, ge=0, le=10_000)  # new stores
    callback_retry_delays_s: list[int] = Field(
        default_factory=lambda: list(DEFAULT_CALLBACK_DELAYS_S)
    )
    dispute_sla_seconds: int = Field(default=86_400, ge=1, le=30 * 86_400)  # new orders
    payout_unpaid_action: Literal["dispute", "pool"] = "dispute"
    # Deposits and withdrawals above this many whole currency units need a second, different
    # staff member's approval (maker-checker).
    funds_second_approval_above: int = Field(default=10_000, ge=0, le=10**12)
    # Withdrawal fee: basis points of the amount plus a fixed part in minor units.
    withdrawal_fee_bps: int = Field(default=100, ge=0, le=10_000)
    withdrawal_fee_fixed_minor: int = Field(default=0, ge=0, le=10**12)
    # A withdrawal not paid within this time is escalated (it keeps waiting).
    withdrawal_sla_seconds: int = Field(default=4 * 3600, ge=1, le=30 * 86_400)
    # The statement bridge: scan interval of a trader's linked accounts, and how long a hand
    # confirmation may wait for its credit before it is flagged.
    statement_watch_interval_seconds: int = Field(default=15, ge=1, le=3600)
    unverified_confirmation_seconds: int = Field(default=600, ge=1, le=7 * 86_400)
    # How long an API request waits for a workflow to apply an action (confirm, paid, take,
    # cancel, dispute); past it: 202 with the order as it is and a Location to poll.
    update_wait_seconds: float = Field(default=10.0, gt=0, le=120)
    # A `created` order with no workflow this long after its create (Temporal was down) is
    # failed by the orphan reconciler (`not_started`); a pay-out's hold is voided.
    orphan_grace_seconds: int = Field(default=120, ge=5, le=86_400)
    # The platform's margin on every conversion an order fixes (new orders).
    fx_spread_bps: int = Field(default=0, ge=0, le=1_000)
    # Exchange rates: the provider's JSON (unset: the bundled emulator's `/rates`), how often
    # the worker's schedule fetches it, and how old a new pair's rate may be before it is stale.
    rates_provider_url: str = ""
    rates_refresh_seconds: int = Field(default=60, ge=5, le=86_400)
    rates_max_age_seconds: int = Field(default=300, ge=10, le=30 * 86_400)
    # How long a process keeps the overrides before reading them again.
    platform_settings_cache_seconds: float = Field(default=5.0, ge=0, le=300)

    # Open-banking (Connect): our team identity at the sandbox banks.
    bank_client_id: str = "team042"
    bank_client_secret: SecretStr = SecretStr("emulator-team-secret")
    # Unset: the bundled emulator's, at `bank_emulator_port`.
    bank_base_urls: dict[str, str] = Field(default_factory=dict)
    bank_emulator_port: int = Field(default=8100, ge=1, le=65535)
    # The banks' sandbox end users of our team: `{bank_client_id}-1..N`, one per user of ours.
    sandbox_identities_per_team: int = Field(default=10, ge=1, le=99)
    # How often each connected user's banks are re-synced and their analytics recomputed.
    connect_refresh_interval_seconds: int = Field(default=6 * 3600, ge=60)

    # Notifications: the Telegram Bot API (unset: the bundled stand-in, `python -m
    # telegram_standin`, at `telegram_standin_port`) and its bot token (a secret: never
    # logged); SMTP for e-mail; how soon before an order's deadline its trader is reminded.
    telegram_api_base_url: str = ""
    telegram_bot_token: SecretStr = SecretStr("100000001:jivapay-standin-token")
    telegram_bot_username: str = "jivapay_standin_bot"  # shown to users linking a chat
    telegram_standin_port: int = Field(default=8105, ge=1, le=65535)
    telegram_link_code_seconds: int = Field(default=600, ge=30, le=86_400)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_from: str = "JivaPay <notifications@jivapay.dev>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    deadline_warning_seconds: int = Field(default=120, ge=10, le=86_400)

    # Outgoing merchant callbacks may reach private addresses only when allowed (local demo).
    callback_allow_private: bool = False

    @property
    def bundled_emulator_url(self) -> str:
        """Where `make run` serves the bundled bank emulator (`python -m bank_emulator`)."""
        return f"http://127.0.0.1:{self.bank_emulator_port}"

    def uses_bundled_emulator(self, bank_code: str) -> bool:
        """Whether this bank's base URL is the bundled emulator's (what the demos need: its
        admin routes add transactions; a real bank has none)."""
        url = urlparse(self.bank_base_urls.get(bank_code, ""))
        return (
            url.hostname in ("127.0.0.1", "localhost")
            and url.port == self.bank_emulator_port
            and url.path.rstrip("/") == f"/{bank_code}"
        )

    @model_validator(mode="after")
    def _derive_ports(self) -> Settings:
        """Apply PORT_OFFSET to every port not given, then derive the addresses built on
        them (Temporal, S3, the public URL, the bundled emulator's banks) unless given."""
        given = self.model_fields_set
        for name in OFFSET_PORTS:
            port = getattr(self, name)
            if name not in given and port:
                setattr(self, name, port + self.port_offset)
        if "temporal_address" not in given:
            self.temporal_address = f"127.0.0.1:{7233 + self.port_offset}"
        if "s3_endpoint_url" not in given:
            self.s3_endpoint_url = f"http://127.0.0.1:{8333 + self.port_offset}"
        if "public_base_url" not in given:
            self.public_base_url = f"http://127.0.0.1:{self.api_port}"
        if not self.telegram_api_base_url:
            self.telegram_api_base_url = f"http://127.0.0.1:{self.telegram_standin_port}"
        if not self.rates_provider_url:
            self.rates_provider_url = f"{self.bundled_emulator_url}/rates"
        if not self.bank_base_urls:
            self.bank_base_urls = {bank: f"{self.bundled_emulator_url}/{bank}" for bank in BANKS}
        return self

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        # Addresses and networks as uvicorn reads them; "*" or a host name would trust
        # whoever connects, and uvicorn would silently trust nobody for a network with host
        # bits set: refused here, at start.
        proxies = [item.strip() for item in value.split(",") if item.strip()]
        for proxy in proxies:
            if "/" in proxy:
                ipaddress.ip_network(proxy)
            else:
                ipaddress.ip_address(proxy)
        return ",".join(proxies)

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_development(self) -> Settings:
        if self.argon2_profile == "cheapest" and self.environment != "test":
            raise ValueError("ARGON2_PROFILE=cheapest is for the test suite only")
        if self.environment != "development":
            if DEFAULT_JWT_SECRET in self.jwt_secrets:
                raise ValueError("JWT_SECRET must be set outside development")
            if DEFAULT_FERNET_KEY in self.fernet_keys:
                raise ValueError("FERNET_KEY must be set outside development")
        if any(len(secret) < 32 for secret in self.jwt_secrets):
            raise ValueError("every JWT_SECRET must be at least 32 characters")
        return self

    @property
    def jwt_secrets(self) -> list[str]:
        """Newest first: the first signs, any verifies (so a rotation logs nobody out)."""
        return _keys(self.jwt_secret)

    @property
    def fernet_keys(self) -> list[str]:
        return _keys(self.fernet_key)

    @property
    def fingerprint_secret(self) -> str:
        if self.fingerprint_key is not None:
            return self.fingerprint_key.get_secret_value()
        return self.fernet_keys[-1]

    @property
    def effective_database_url(self) -> str:
        url = self.database_url
        # One driver for PostgreSQL: psycopg 3, whatever scheme the URL was written with.
        for scheme in ("postgres://", "postgresql://"):
            if url.startswith(scheme):
                return "postgresql+psycopg://" + url[len(scheme) :]
        if url:
            return url
        return f"sqlite:///{self.data_dir / 'jivapay.sqlite3'}"

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "console" if self.environment == "development" else "json"

    @property
    def uses_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")


def _keys(secret: SecretStr) -> list[str]:
    return [key.strip() for key in secret.get_secret_value().split(",") if key.strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
