"""One database step of a workflow, run as a local activity or as an activity task.

Standard library and Temporal only (workflow code). Lean runs make a step local: it runs in
the worker, inside the workflow task that decided it, with no round trip through the server.
Older runs keep the activity task their history recorded.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy


async def run_step(
    name: str,
    arg: object,
    *,
    local: bool,
    limit: timedelta,
    retry: RetryPolicy,
    result_type: type | None = None,
) -> Any:
    run = workflow.execute_local_activity if local else workflow.execute_activity
    return await run(
        name, arg, result_type=result_type, start_to_close_timeout=limit, retry_policy=retry
    )
