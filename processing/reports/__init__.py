"""Reports for staff (and, at merge, team leads): figures read off the ledger."""
