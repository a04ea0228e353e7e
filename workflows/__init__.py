"""Temporal workflows: decisions, timers and state only; no I/O (see STYLE.md)."""

WORKFLOWS: list[type] = []
