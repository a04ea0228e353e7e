"""CallbackWorkflow: deliver one merchant event over a durable retry ladder.

Id `callback-{event_id}`. Started by PayinWorkflow with ParentClosePolicy.ABANDON, so a
slow or failing merchant endpoint never holds up or changes the order. The ladder is an
input (about three days in production, seconds in tests).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from contracts import processing as p

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)
# One HTTP attempt per rung: the ladder itself is the retry policy.
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)


@workflow.defn
class CallbackWorkflow:
    @workflow.run
    async def run(self, inp: p.CallbackInput) -> p.CallbackFinished:
        prepared = await workflow.execute_activity(
            p.ProcessingActivity.prepare_callback,
            inp,
            result_type=p.CallbackPrepared,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        if not prepared.has_url:
            return p.CallbackFinished(inp.event_id, False, 0)
        delivered, attempts = False, 0
        for delay in [0, *inp.delays_s]:
            if delay:
                await workflow.sleep(timedelta(seconds=delay))
            attempts += 1
            outcome = await self._attempt(inp.event_id, inp.first_attempt_no + attempts - 1)
            delivered = bool(outcome)
            # Delivered, or refused by the SSRF guard: either way the ladder ends here.
            if outcome is not False:
                break
        finished = p.CallbackFinished(inp.event_id, delivered, attempts)
        await workflow.execute_activity(
            p.ProcessingActivity.finish_callback,
            finished,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=DB_RETRY,
        )
        return finished

    async def _attempt(self, event_id: str, attempt_no: int) -> bool | None:
        """True delivered, False a failed rung, None a refused URL (no rung can succeed)."""
        try:
            result = await workflow.execute_activity(
                p.ProcessingActivity.deliver_callback,
                p.CallbackAttemptInput(event_id, attempt_no),
                result_type=p.CallbackAttemptResult,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=ONE_ATTEMPT,
            )
        except ActivityError as exc:
            cause = exc.cause
            if (
                isinstance(cause, ApplicationError)
                and cause.type == p.ProcessingError.callback_blocked
            ):
                return None
            # A crashed or timed-out attempt is a failed rung, not a failed workflow.
            return False
        return result.delivered
