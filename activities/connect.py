"""The Connect activities the worker registers, sharing one bank access per process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from activities.bank_access import BankAccess
from activities.connect_consents import ConsentActivities
from activities.connect_sync import SyncActivities
from core.context import ServiceContext


def connect_activities(ctx: ServiceContext) -> list[Callable[..., Any]]:
    bank = BankAccess(ctx)
    consents, sync = ConsentActivities(bank), SyncActivities(bank)
    return [
        consents.ensure_token,
        consents.request_consent,
        consents.poll_consent,
        consents.sign_consent,
        consents.expire_consent,
        consents.revoke_consent,
        consents.update_connection,
        sync.sync_accounts,
        sync.sync_transactions,
        sync.sync_agreements,
        sync.finish_sync,
    ]
