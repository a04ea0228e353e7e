"""Temporal workflows: decisions, timers and state only; no I/O (see STYLE.md).

Deliberately empty: the sandbox re-runs this file for every new workflow run. The list of
workflows a worker registers is `worker.WORKFLOWS`.
"""
