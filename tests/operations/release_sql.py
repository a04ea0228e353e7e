"""The hot-path SQL of the last release, frozen: what its code issues to create an order,
read it, and settle it. `test_expand_contract` runs it against the head schema, so a
migration that would break the release still running during a deploy fails there.

What is frozen, concretely:
- `COLUMNS`: the column list the release's models name for each hot table. An ORM INSERT
  names every mapped column and an ORM SELECT reads every one, so this list is exactly what
  a dropped or renamed column, or a new NOT NULL column without a default, breaks.
- `statements()`: the shapes of the release's hot statements written out as SQL text (not
  rendered from today's models, so a later change to models/ cannot hide a break): the
  order and its timeline inserted, read by id and by (store, merchant_order_id, kind), the
  balance reserved by the guarded UPDATE, the hold and the posting with its entries
  inserted, the hold posted, the balances moved, the order's status moved (guarded).
Not frozen: the exact text SQLAlchemy renders per dialect (quoting, RETURNING), nor the
matching query's joins. Re-freeze (from `models.metadata`) when a release ships.
"""

from __future__ import annotations

# The migration head of the release in production; migrations after it must only expand.
LAST_RELEASE = "0024"
# Contract migrations (release N+1): revision → exactly what it removes ("table.column
# dropped or renamed", as `test_expand_contract.breaks` words it); each must be something
# the release before it no longer used, so never a column of `COLUMNS` below.
CONTRACTS: dict[str, set[str]] = {}

COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": (
        "id",
        "kind",
        "store_id",
        "merchant_id",
        "merchant_order_id",
        "idempotency_key",
        "request_hash",
        "requested_amount_minor",
        "amount_minor",
        "currency",
        "payment_method",
        "bank_code",
        "customer_id",
        "customer_ip",
        "callback_url",
        "status",
        "failure_reason",
        "match_rejections",
        "fraud_decision",
        "fraud_hits",
        "recipient_kind",
        "recipient_encrypted",
        "recipient_last4",
        "recipient_fingerprint",
        "recipient_bank_code",
        "review_seconds",
        "assigned_at",
        "paid_at",
        "review_until",
        "disputed_at",
        "dispute_opened_by",
        "dispute_reason",
        "dispute_evidence_id",
        "escalated_at",
        "actual_amount_minor",
        "events",
        "flags",
        "merchant_fee_bps",
        "trader_reward_bps",
        "fee_minor",
        "reward_minor",
        "teamlead_id",
        "teamlead_share_bps",
        "teamlead_share_minor",
        "store_currency",
        "store_rate",
        "store_amount_minor",
        "trader_currency",
        "trader_rate",
        "trader_amount_minor",
        "trader_rates",
        "requisite_id",
        "trader_id",
        "payment_deadline_seconds",
        "trader_deadline_seconds",
        "expires_at",
        "trader_deadline_at",
        "matched_at",
        "claimed_at",
        "finished_at",
        "created_at",
        "updated_at",
    ),
    "order_events": (
        "id",
        "order_id",
        "seq",
        "actor_type",
        "actor_id",
        "from_status",
        "to_status",
        "reason",
        "at",
    ),
    "ledger_holds": (
        "id",
        "order_id",
        "withdrawal_id",
        "account_id",
        "amount_minor",
        "status",
        "created_at",
        "resolved_at",
    ),
    "ledger_postings": (
        "id",
        "idempotency_key",
        "kind",
        "order_id",
        "memo",
        "created_at",
    ),
    "ledger_entries": (
        "id",
        "posting_id",
        "account_id",
        "amount_minor",
    ),
    "ledger_accounts": (
        "id",
        "kind",
        "owner_id",
        "currency",
        "counter_currency",
        "balance_minor",
        "held_minor",
        "frozen_minor",
        "security_deposit_minor",
        "allow_negative",
        "created_at",
    ),
}


def copy_row(table: str, replaced: dict[str, str]) -> str:
    """The release's INSERT into `table`: every column it names, the values those of an
    existing row (`:from_row`, so each has the right type) but for the `replaced` ones."""
    names = ", ".join(COLUMNS[table])
    values = ", ".join(replaced.get(column, column) for column in COLUMNS[table])
    # Names from the frozen lists above, never from input.
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM {table} WHERE id = :from_row"  # noqa: S608


def read(table: str, where: str, tail: str = "") -> str:
    return f"SELECT {', '.join(COLUMNS[table])} FROM {table} WHERE {where}{tail}"  # noqa: S608


# (what, table copied from or None, SQL). Bind parameters: `:id` the new order, `:from_row`
# the existing row copied, the rest named for what they are.
HOT_PATH: tuple[tuple[str, str | None, str], ...] = (
    ("create the order", "orders", copy_row("orders", {
        "id": ":id", "merchant_order_id": ":merchant_order_id",
        "idempotency_key": ":idempotency_key", "status": ":created", "finished_at": "NULL",
    })),
    ("write its timeline", "order_events", copy_row("order_events", {
        "id": ":event_id", "order_id": ":id",
    })),
    ("read it by id", None, read("orders", "id = :id")),
    ("read it by merchant order id", None, read(
        "orders",
        "store_id = :store_id AND merchant_order_id = :merchant_order_id AND kind = :kind",
        " ORDER BY created_at DESC, id DESC",
    )),
    ("read its timeline", None, read("order_events", "order_id = :id", " ORDER BY seq")),
    ("reserve the balance", None,
     "UPDATE ledger_accounts SET held_minor = held_minor + :amount WHERE id = :account_id"
     " AND balance_minor - frozen_minor - held_minor >= :amount"),
    ("hold it", "ledger_holds", copy_row("ledger_holds", {
        "id": ":hold_id", "order_id": ":id", "account_id": ":account_id",
        "amount_minor": ":amount", "status": ":pending", "resolved_at": "NULL",
    })),
    ("post the hold", None,
     "UPDATE ledger_holds SET status = :posted, resolved_at = :now"
     " WHERE order_id = :id AND status = :pending"),
    ("write the posting", "ledger_postings", copy_row("ledger_postings", {
        "id": ":posting_id", "idempotency_key": ":posting_key", "order_id": ":id",
    })),
    ("write an entry", "ledger_entries", copy_row("ledger_entries", {
        "id": ":entry_id", "posting_id": ":posting_id",
    })),
    ("move the balance", None,
     "UPDATE ledger_accounts SET balance_minor = balance_minor + 0,"
     " held_minor = held_minor - :amount WHERE id = :account_id"),
    ("settle the order", None,
     "UPDATE orders SET status = :completed, finished_at = :now, updated_at = :now"
     " WHERE id = :id AND status = :created"),
)  # fmt: skip
