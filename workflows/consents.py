"""RevokeConsentWorkflow: the user withdraws a consent; the bank is told, durably.

A revoke is done when the bank stops answering with the user's data. Until then the consent
is `revoke_pending` (the user revokes it in the bank's app) and, since the patch
`revoke-confirm-v1`, this workflow asks the bank again at a backoff, or at once on the
`revoke_check` signal ("I revoked it"), until it lets go. Runs from before the patch end
after the first answer, as they did.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from contracts import connect as c
from contracts.connect import ConsentStatus
from workflows.sync import bank_call, failure_of

REVOKE_CONFIRM = "revoke-confirm-v1"


@workflow.defn
class RevokeConsentWorkflow:
    def __init__(self) -> None:
        self._check = False

    @workflow.signal(name=c.RevokeSignal.check)
    def check(self) -> None:
        """The user says they revoked it in their bank's app: probe now."""
        self._check = True

    @workflow.run
    async def run(self, inp: c.RevokeInput) -> c.ConsentState:
        state = await bank_call(c.ConnectActivity.revoke_consent, inp, c.ConsentState)
        if not workflow.patched(REVOKE_CONFIRM):
            return state
        delay = inp.probe_initial_seconds
        while state.status == ConsentStatus.revoke_pending:
            try:
                await workflow.wait_condition(lambda: self._check, timeout=delay)
            except TimeoutError:
                delay = min(delay * 2, inp.probe_max_seconds)
            self._check = False
            try:
                state = await bank_call(c.ConnectActivity.revoke_consent, inp, c.ConsentState)
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.type in c.DETERMINISTIC_ERRORS:
                    raise  # the consent is gone (identity released) or a bug: asking won't help
                # A bank down for now is asked again later; the consent stays withdrawn here.
                workflow.logger.warning("revoke not confirmed yet: %s", failure_of(err)[1])
            if workflow.info().is_continue_as_new_suggested():
                workflow.continue_as_new(inp)
        return state
