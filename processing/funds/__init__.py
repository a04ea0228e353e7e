"""Deposits and withdrawals: requests, approvals, their ledger steps and views."""
