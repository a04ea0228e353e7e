"""Money tests (currencies and rates, deposits, withdrawals, trader collateral) build on the
processing kit: an isolated currency per test, stores, funded traders, a signed-callback
receiver and an admin session."""

from tests.processing.conftest import admin_headers, receiver

__all__ = ["admin_headers", "receiver"]
