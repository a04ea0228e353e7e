"""How bank failures reach Temporal: the client owns HTTP retries; a long Retry-After becomes
the activity's next_retry_delay; what would fail the same way again is final at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError

from activities.connect import ConnectActivities
from banks import BankProtocolError, BankRateLimitedError, BankUnavailableError
from contracts.connect import DETERMINISTIC_ERRORS
from core.context import ServiceContext
from workflows.sync import BANK_CALL_RETRY, DB_RETRY


async def _raised(ctx: ServiceContext, error: Exception) -> ApplicationError:
    activities = ConnectActivities(ctx)
    with pytest.raises(ApplicationError) as caught:
        async with activities._bank_errors("", "vbank"):
            raise error
    return caught.value


async def test_a_long_retry_after_is_waited_out_by_temporal(ctx: ServiceContext) -> None:
    limited = BankRateLimitedError("429", bank_code="vbank", retry_after_s=90)
    raised = await _raised(ctx, limited)
    assert not raised.non_retryable
    assert raised.next_retry_delay == timedelta(seconds=90)


@pytest.mark.parametrize(
    "error",
    [
        BankUnavailableError("500 after 5 attempts", bank_code="vbank", status_code=500),
        BankProtocolError("<html> is not JSON", bank_code="vbank"),
    ],
)
async def test_what_outlasted_the_clients_budget_is_final(
    ctx: ServiceContext, error: Exception
) -> None:
    assert (await _raised(ctx, error)).non_retryable


def test_bugs_and_bad_data_are_never_retried() -> None:
    for policy in (BANK_CALL_RETRY, DB_RETRY):
        assert {"TypeError", "ValueError", "ValidationError"} <= set(
            policy.non_retryable_error_types or []
        )
    assert "TypeError" in DETERMINISTIC_ERRORS
