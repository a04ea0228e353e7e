"""Orders: pay-ins and pay-outs from create to final status — the services the API
calls, the workflow steps (matching, transitions), disputes, receipts, the orphan reconciler."""
