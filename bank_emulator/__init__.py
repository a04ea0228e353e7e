"""Our emulator of the sandbox open-banking API (VBank, ABank, SBank).

Run: `python -m bank_emulator --host 127.0.0.1 --port 8100`; the banks live at
`http://127.0.0.1:8100/{vbank,abank,sbank}` (each one a base URL of its own), plus `GET /health`.
Settings are `BANK_EMULATOR_*` environment variables (`config.EmulatorSettings`): team
`CLIENT_ID` / `CLIENT_SECRET`, `ADMIN_TOKEN`, `{BANK}_TOKEN_SECRET`, `{BANK}_APPROVAL`
(auto | manual; SBank manual by default), `{BANK}_IGNORE_DATE_FILTER`, `ZONELESS_BANKS`
(JSON list, `["abank"]` by default), `SEED`, `ANCHOR_DATE` (the emulator's "today"; the UTC
date at startup when unset), `TX_MULTIPLIER`, `TOKEN_TTL_SECONDS`, `RATE_429`, `RATE_5XX`,
`LATENCY_MS`.

As strict as the real bank code unless `FRIENDLY`: a revoke names a consent id (a request
id is 404), two active account consents of one client make the data routes answer 500, and
an approval given in the bank's UI shows only in data calls and in the user's own consent
list (`GET /account-consents/my-consents`, which `behaviour` `user_consent_list` can hide).

Synthetic data: see `data.py` (determinism, `teamNNN-3` without loans, `teamNNN-9` with only
a loan account) and `history.py` (what a year of movements looks like).

Admin endpoints, per bank, with header `X-Emulator-Admin: <admin token>`:
`POST /admin/transactions` (add, returns ids), `PATCH /admin/transactions/{id}` (status),
`GET /admin/clients/{client_id}` (accounts and counts), `POST /admin/faults` (`rate_429`,
`rate_5xx`, `latency_ms`, `fail_next_429`, `fail_next_5xx`, `retry_after_s`, `status_5xx`),
`POST /admin/tokens/expire`, `POST /admin/consents/revoke` (`consent_id` or `client_id`),
`POST /admin/approval-mode`, `POST /admin/behaviour`, `POST /admin/scale`,
`GET|DELETE /admin/stats` (counters, e.g. `token_requests`), `POST /admin/reset`.
"""
