"""Funds activities: thin Temporal adapters over `processing/funds/` (each step of a deposit
or withdrawal mirrored into the database, exactly once; the withdrawal SLA's escalation)."""

from __future__ import annotations

import logging

from temporalio import activity

from contracts import funds as f
from core.context import ServiceContext
from processing.funds import deposits, withdrawal_steps

log = logging.getLogger(__name__)


class FundsActivities:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @activity.defn(name=f.FundsActivity.record_deposit)
    def record_deposit(self, inp: f.FundsTransition) -> f.FundsTransitionResult:
        """A deposit's step: confirmed by, credited (one posting), rejected."""
        result = deposits.record(self.ctx.engine, inp)
        log.info("deposit %s is %s", inp.funds_id, result.status)
        return result

    @activity.defn(name=f.FundsActivity.record_withdrawal)
    def record_withdrawal(self, inp: f.FundsTransition) -> f.FundsTransitionResult:
        """A withdrawal's step: approvals, paid, the hold released or posted, its event."""
        result = withdrawal_steps.record(self.ctx.engine, inp)
        log.info("withdrawal %s is %s", inp.funds_id, result.status)
        return result

    @activity.defn(name=f.FundsActivity.escalate_withdrawal)
    def escalate_withdrawal(self, inp: f.EscalateWithdrawal) -> bool:
        """Past its SLA: flagged, audited and counted (nothing is decided)."""
        return withdrawal_steps.escalate(self.ctx.engine, inp)
