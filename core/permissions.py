"""Staff permissions: what each staff role may do, checked in one place
(`api.deps.require`) and listed per operation in the OpenAPI (`x-permission`).

Roles are named by their string values so a role another branch adds (`teamlead`) can be
listed here without importing it."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # Every staff read: orders, disputes, deposits, withdrawals, users, settings, rates.
    read = "read"
    # Open a dispute on an order and resolve it (completed, with an actual amount, or cancelled).
    disputes_handle = "disputes.handle"
    # Act on an order as staff: confirm or cancel it, decide a fraud review.
    orders_handle = "orders.handle"
    # Deposits and withdrawals: credit, approve, reject, pay, reveal a destination to pay it.
    funds_approve = "funds.approve"
    # Exchange rates: set a manual rate, hand a pair back to the provider.
    rates_set = "rates.set"
    # Traders, requisites and stores: approve or block requisites, limits, fees, security
    # deposits, settlement currencies.
    accounts_manage = "accounts.manage"
    fraud_manage = "fraud.manage"
    settings_manage = "settings.manage"
    # Reference data: currencies, banks, payment methods and which bank offers which; the
    # Connect side's category rules and the banks' sandbox identities.
    reference_manage = "reference.manage"
    # Turnover reports: volume, fees, rewards, team-lead shares, platform profit.
    reports_read = "reports.read"
    # The audit log and the banks' raw request logs.
    audit_read = "audit.read"
    # Accounts: create, block, unblock, reset a second factor; teams and their traders.
    staff_manage = "staff.manage"
    # Anything else only an administrator does (routes without a finer permission yet).
    admin = "admin"


ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "support": frozenset({Permission.read, Permission.disputes_handle}),
    "finance": frozenset(
        {Permission.read, Permission.funds_approve, Permission.rates_set, Permission.reports_read}
    ),
}
# Roles that sign in to the back office (`/admin`, `/api/admin`); their writes are audited.
STAFF_ROLES = frozenset(ROLE_PERMISSIONS)


def allows(role: str, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def roles_with(permission: Permission) -> list[str]:
    return [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]


# Roles that move money or manage those who do: they sign in with a second factor (TOTP).
MFA_REQUIRED_ROLES = frozenset({"admin", "finance", "teamlead"})
