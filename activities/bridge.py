"""Statement bridge activities: one scan of a trader's linked bank accounts (async: bank
calls over HTTP, database work in threads, confirms sent to pay-in workflows)."""

from __future__ import annotations

from temporalio import activity

from connect.bank_access import BankAccess
from contracts.bridge import BridgeActivity, ScanInput, WatchScan
from core.context import ServiceContext
from processing.bridge import watch as statement_watch
from processing.platform.settings import PlatformSettingsCache


class BridgeActivities:
    """Holds the process's bank clients and its view of the platform settings."""

    def __init__(self, ctx: ServiceContext, bank: BankAccess | None = None) -> None:
        self.ctx = ctx
        self.bank = bank or BankAccess(ctx)
        self.platform = PlatformSettingsCache(ctx.engine, ctx.settings)

    @activity.defn(name=BridgeActivity.scan_statement)
    async def scan_statement(self, inp: ScanInput) -> WatchScan:
        """Fetch the linked accounts' newest transactions, decide new credits, confirm what
        the statement proves and flag hand confirmations no credit backed in time."""
        platform = await self.platform.current()
        return await statement_watch.scan(self.bank, activity.client(), platform, inp)
