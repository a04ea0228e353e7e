"""The double-entry ledger: accounts, holds, postings (guarded, idempotent), and
settlement with commissions."""
