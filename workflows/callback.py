"""CallbackWorkflow: deliver one merchant event over a durable retry ladder.

Id `callback-{event_id}`. Started by an order's workflow with ParentClosePolicy.ABANDON, so
a slow or failing merchant endpoint never holds up or changes the order: by a pay-out's for
every event, by a lean pay-in's (`workflows.orders.deliver`) only once its own first attempt
failed (`after_first_attempt`: the ladder goes on from its first delay). The ladder is an
input (about three days in production, seconds in tests).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from contracts import processing as p
from workflows.steps import run_step

DB_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)
)
# One HTTP attempt per rung: the ladder itself is the retry policy.
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)


@workflow.defn(name=p.CALLBACK_WORKFLOW)
class CallbackWorkflow:
    @workflow.run
    async def run(self, inp: p.CallbackInput) -> p.CallbackFinished:
        prepared = await prepare(inp)
        if not prepared.has_url:
            return p.CallbackFinished(inp.event_id, False, 0)
        delivered, attempts = False, 0
        ladder = inp.delays_s if inp.after_first_attempt else [0, *inp.delays_s]
        for delay in ladder:
            if delay:
                await workflow.sleep(timedelta(seconds=delay))
            attempts += 1
            outcome = await attempt(inp.event_id, inp.first_attempt_no + attempts - 1)
            delivered = bool(outcome)
            # Delivered, or refused by the SSRF guard: either way the ladder ends here.
            if outcome is not False:
                break
        finished = p.CallbackFinished(inp.event_id, delivered, attempts)
        await finish(finished)
        return finished


async def attempt(event_id: str, attempt_no: int) -> bool | None:
    """One rung: True delivered, False failed, None a refused URL (no rung can succeed)."""
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
        if isinstance(cause, ApplicationError) and cause.type == p.ProcessingError.callback_blocked:
            return None
        # A crashed or timed-out attempt is a failed rung, not a failed workflow.
        return False
    return result.delivered


async def prepare(inp: p.CallbackInput, local: bool = False) -> p.CallbackPrepared:
    """The delivery row with its frozen body, once per event id: whether it has a URL."""
    prepared: p.CallbackPrepared = await run_step(
        p.ProcessingActivity.prepare_callback,
        inp,
        local=local,
        limit=timedelta(seconds=30),
        retry=DB_RETRY,
        result_type=p.CallbackPrepared,
    )
    return prepared


async def finish(finished: p.CallbackFinished, local: bool = False) -> None:
    """After the last rung: a delivery that never succeeded is marked failed."""
    await run_step(
        p.ProcessingActivity.finish_callback,
        finished,
        local=local,
        limit=timedelta(seconds=30),
        retry=DB_RETRY,
    )
