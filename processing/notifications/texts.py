"""What a notification says: one short subject and text per event kind, rendered from the
stored payload (ids, amounts, masked numbers; nothing secret is ever in a payload)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

TEMPLATES: dict[str, tuple[str, str]] = {
    "payin_matched": (
        "New pay-in {amount} {currency}",
        "New pay-in {amount} {currency} matched to your requisite {requisite} ({bank_code})."
        " Order {order_id}; pay by {expires_at}.",
    ),
    "payout_available": (
        "Pay-out {amount} {currency} to take",
        "A pay-out of {amount} {currency} is waiting to be taken. Order {order_id}.",
    ),
    "deadline_near": (
        "Deadline near: {order_kind} {amount} {currency}",
        "Your {order_kind} {order_id} ({amount} {currency}) is due by {deadline}.",
    ),
    "dispute_opened": (
        "Dispute on {order_kind} {amount} {currency}",
        "A dispute was opened on your {order_kind} {order_id} ({amount} {currency}) by"
        " {opened_by}.",
    ),
    "balance_low": (
        "Working balance low: you are offline",
        "Your working balance {working_balance} {currency} is below the minimum {minimum}"
        " {currency}: you were set offline. Top up to take orders again.",
    ),
    "withdrawal_status": (
        "Withdrawal {status}",
        "Your withdrawal {withdrawal_id} of {amount} {currency} to {destination} is now {status}.",
    ),
    "approval_waiting": (
        "A {request_kind} awaits approval",
        "A {owner_kind}'s {request_kind} of {amount} {currency} awaits approval ({request_id}).",
    ),
}


# Times in a payload are ISO 8601 (UTC); a message shows them to the minute.
TIMES = ("expires_at", "deadline")


def _when(value: Any) -> Any:
    try:
        return datetime.fromisoformat(str(value)).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def render(kind: str, payload: dict[str, Any]) -> tuple[str, str]:
    subject, text = TEMPLATES.get(kind, (kind, kind))
    values = _Blank(payload)
    for key in TIMES:
        if payload.get(key):
            values[key] = _when(payload[key])
    return subject.format_map(values), text.format_map(values)
