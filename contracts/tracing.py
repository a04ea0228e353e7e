"""What travels with a request through Temporal: its id, in a header (standard library only).

Workflow code reads this module through the sandbox's passthrough, so the context variable
the workflow sets is the very one the log record factory reads.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

REQUEST_ID_HEADER = "jivapay-request-id"

# The HTTP request (or the workflow / activity acting for it) this code runs for.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# Where an activity runs: workflow id, run id, activity type, attempt (for its log lines).
activity_context_var: ContextVar[dict[str, Any] | None] = ContextVar(
    "activity_context", default=None
)
