"""Processing: the pay-in (and pay-out) domain — ledger, matching, settlement, services.

Deliberately empty: activities import `processing.ledger` without pulling in the API side.
"""
