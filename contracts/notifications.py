"""Notifications for people: event kinds, channels, workflow and activity payloads.

Standard library only: the workflows import it. Payloads carry the notification's id and
nothing of its text (the text is rendered by the delivering activity from the stored row):
histories are stored in clear and shown in the UI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

NOTIFICATION_WORKFLOW = "NotificationWorkflow"
NOTIFICATION_SWEEP_WORKFLOW = "NotificationSweepWorkflow"
NOTIFY_SWEEP_EVERY_S = 5


class NotificationKind(StrEnum):
    payin_matched = "payin_matched"  # a new pay-in matched to your requisite
    payout_available = "payout_available"  # a pay-out you can take
    deadline_near = "deadline_near"  # your order's deadline is near
    dispute_opened = "dispute_opened"  # a dispute opened on your order
    balance_low = "balance_low"  # your working balance is low (you were set offline)
    withdrawal_status = "withdrawal_status"  # your withdrawal changed status
    approval_waiting = "approval_waiting"  # staff: a deposit or withdrawal awaits approval


# Urgent events go at once, even in quiet hours.
URGENT_KINDS = frozenset(
    {
        NotificationKind.payin_matched,
        NotificationKind.deadline_near,
        NotificationKind.dispute_opened,
        NotificationKind.balance_low,
    }
)


class Channel(StrEnum):
    """Channels a delivery goes through; the web list shows every notification anyway."""

    telegram = "telegram"
    email = "email"


class DeliveryState(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"  # a permanent refusal (chat blocked) or retries exhausted
    skipped = "skipped"  # the channel became unavailable (chat unlinked) before sending


class NotificationActivity(StrEnum):
    plan = "notification_plan"
    deliver = "notification_deliver"
    give_up = "notification_give_up"
    sweep = "notification_sweep"


# The permanent refusals a channel answers (a blocked chat, a bad address): no retry.
PERMANENT_FAILURE = "PermanentDeliveryFailure"


def notification_workflow_id(notification_id: str) -> str:
    return f"notify-{notification_id}"


def notification_sweep_schedule_id(task_queue: str) -> str:
    return f"notify-sweep-{task_queue}"


@dataclass
class NotificationInput:
    notification_id: str


@dataclass
class NotificationPlan:
    channels: list[str]  # the channels to deliver through, each with its pending row
    # Not urgent and the recipient is in quiet hours: deliver at this time (UTC, ISO 8601).
    deliver_at: str | None = None


@dataclass
class DeliverInput:
    notification_id: str
    channel: str


@dataclass
class DeliverResult:
    notification_id: str
    channel: str
    state: str  # DeliveryState


@dataclass
class NotificationResult:
    notification_id: str
    deliveries: dict[str, str] = field(default_factory=dict)  # channel → DeliveryState


@dataclass
class SweepInput:
    task_queue: str
    limit: int = 200


@dataclass
class SweepResult:
    started: list[str] = field(default_factory=list)  # notification ids whose workflow started
    linked: int = 0  # Telegram chats linked from the bot's updates in this pass
    deadlines: int = 0  # deadline-near notifications written
