"""Retries, Retry-After, token renewal, shared refresh and bounded concurrency, over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from banks import (
    BankAuthError,
    BankClient,
    BankRateLimitedError,
    BankUnavailableError,
    InMemoryRawLogSink,
    RetryPolicy,
)
from tests.bank_client.helpers import EmulatorAdmin, granted_consent

MakeClient = Callable[..., BankClient]


async def test_429_storm_and_5xx_burst_are_ridden_out(
    make_client: MakeClient, admin: EmulatorAdmin, sink: InMemoryRawLogSink
) -> None:
    client = make_client("vbank")
    consent_id = await granted_consent(client, "team042-1")
    await admin.faults("vbank", fail_next_429=3, fail_next_5xx=2, retry_after_s=0)
    accounts = await client.list_accounts("team042-1", consent_id)
    assert accounts
    statuses = [e.status_code for e in sink.entries if e.endpoint.startswith("/accounts?")]
    assert statuses == [429, 429, 429, 503, 503, 200]
    attempts = [e.attempt for e in sink.entries if e.endpoint.startswith("/accounts?")]
    assert attempts == [1, 2, 3, 4, 5, 6]
    assert len({e.correlation_id for e in sink.entries if e.endpoint.startswith("/accounts?")}) == 1


async def test_retry_after_is_honoured(make_client: MakeClient, admin: EmulatorAdmin) -> None:
    client = make_client("abank")
    await client.get_bank_token()
    await admin.faults("abank", fail_next_429=1, retry_after_s=1)
    started = time.monotonic()
    await client.list_products()
    assert time.monotonic() - started >= 1.0


async def test_a_storm_longer_than_the_budget_raises_rate_limited(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    policy = RetryPolicy(max_attempts=3, max_rate_limited=4, base_delay_s=0.01)
    client = make_client("abank", retry=policy)
    await client.get_bank_token()
    await admin.faults("abank", fail_next_429=10, retry_after_s=0)
    with pytest.raises(BankRateLimitedError) as caught:
        await client.list_products()
    assert caught.value.code == "bank_rate_limited" and caught.value.retryable
    assert (await admin.stats("abank"))["faults_429"] == 4


async def test_rate_limits_and_failures_have_separate_budgets(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    """A 429 is the proxy turning the request away before the bank handled it: waiting it
    out does not use up the attempts kept for real failures (5xx, lost connections)."""
    policy = RetryPolicy(max_attempts=3, max_rate_limited=3, base_delay_s=0.01)
    client = make_client("abank", retry=policy)
    await client.get_bank_token()
    await admin.faults("abank", fail_next_429=2, fail_next_5xx=2, retry_after_s=0)
    assert await client.list_products()
    stats = await admin.stats("abank")
    assert stats["faults_429"] == 2 and stats["faults_503"] == 2


async def test_a_long_retry_after_is_left_to_the_caller(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("abank", retry=RetryPolicy(base_delay_s=0.01, max_retry_after_s=5))
    await client.get_bank_token()
    await admin.faults("abank", fail_next_429=1, retry_after_s=120)
    with pytest.raises(BankRateLimitedError) as caught:
        await client.list_products()
    assert caught.value.retry_after_s == 120


async def test_consent_request_is_not_resent_after_a_5xx(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("vbank")
    await client.get_bank_token()
    await admin.faults("vbank", fail_next_5xx=1)
    # The bank may have created the consent before failing; a blind resend could make two.
    with pytest.raises(BankUnavailableError) as caught:
        await client.request_account_consent("team042-1")
    assert caught.value.code == "bank_unavailable"
    await admin.faults("vbank", fail_next_429=1, retry_after_s=0)
    assert (await client.request_account_consent("team042-1")).consent_id


async def test_expired_token_is_renewed_exactly_once(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("vbank")
    consent_id = await granted_consent(client, "team042-1")
    assert (await admin.stats("vbank"))["token_requests"] == 1
    await admin.expire_tokens("vbank")
    results = await asyncio.gather(
        *(client.list_accounts("team042-1", consent_id) for _ in range(10))
    )
    assert all(results)
    assert (await admin.stats("vbank"))["token_requests"] == 2


async def test_concurrent_callers_share_one_token_fetch(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("sbank")
    await asyncio.gather(*(client.list_products() for _ in range(20)))
    assert (await admin.stats("sbank"))["token_requests"] == 1


async def test_wrong_secret_is_an_auth_error_without_the_secret(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("vbank")
    client._client_secret = "definitely-wrong-secret"
    with pytest.raises(BankAuthError) as caught:
        await client.list_products()
    assert caught.value.code == "bank_auth_failed"
    assert "Invalid client_secret" in str(caught.value)
    assert "definitely-wrong-secret" not in str(caught.value)


async def test_concurrency_is_bounded_per_bank(
    make_client: MakeClient, admin: EmulatorAdmin
) -> None:
    client = make_client("vbank", max_concurrency=2)
    await client.get_bank_token()
    await admin.faults("vbank", latency_ms=150)
    started = time.monotonic()
    await asyncio.gather(*(client.list_products() for _ in range(6)))
    # Six calls, two at a time, 150 ms each: at least three rounds.
    assert time.monotonic() - started >= 0.45


async def test_unreachable_bank_is_unavailable_after_bounded_retries(
    sink: InMemoryRawLogSink,
) -> None:
    retry = RetryPolicy(max_attempts=3, base_delay_s=0.01)
    async with BankClient(
        "vbank", "http://127.0.0.1:9/vbank", "team042", "s3cret-value", retry=retry, log_sink=sink
    ) as client:
        with pytest.raises(BankUnavailableError):
            await client.list_products()
    assert [e.error for e in sink.entries] == ["ConnectError"] * 3
    assert all("s3cret-value" not in e.endpoint for e in sink.entries)
