"""The statement bridge: a trader's synced bank statement confirms pay-ins (credits,
links, the watch, pay-out debits as evidence)."""
