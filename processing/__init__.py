"""Processing: the pay-in and pay-out domain, in sub-packages by subject — `orders` (the
services the API calls and the workflow steps), `ledger` (postings, holds, settlement),
`callbacks` (signed merchant events), `bridge` (the statement bridge), `risk` (fraud),
`accounts` (merchants, traders, users), `platform` (settings, reference data); `views` and
`errors` are what they all share.

Deliberately empty: activities import `processing.ledger.postings` without pulling in the
API side.
"""
