"""Notifications for people: the outbox the domain writes into (in the transaction of the
state change), each user's choices, the channels (Telegram Bot API, SMTP, the web list) and
the delivery steps the `NotificationWorkflow` runs."""
