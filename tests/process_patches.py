"""Patches of the suite's own process, applied once when the suite's conftest imports this.

Nothing here runs in the platform's processes (API, worker): they keep the SDK's and the
interpreter's behaviour.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

from temporalio.worker import _workflow as _workflow_worker

# Workers inside the test process detect a deadlocked workflow activation after 30 s of
# wall time instead of the SDK's 2. On this 2-core machine, running both passes side by side,
# a slow (not deadlocked) activation can pass 2 s; the SDK then raises an exception into the
# activation's thread, which can land while that thread holds a logging handler's lock, and
# every thread of the pass then waits on that lock for good (seen once in a full run: all
# threads in `Handler.acquire`). Workers in their own processes keep the SDK's 2 s.
_WORKFLOW_WORKER_INIT = _workflow_worker._WorkflowWorker.__init__


def _patient_workflow_worker(self: Any, *args: Any, **kwargs: Any) -> None:
    _WORKFLOW_WORKER_INIT(self, *args, **kwargs)
    if self._deadlock_timeout_seconds is not None:
        self._deadlock_timeout_seconds = 30


_workflow_worker._WorkflowWorker.__init__ = _patient_workflow_worker  # type: ignore[method-assign]


# CPython 3.11.7's `ast.parse` keeps its recursion depth in the interpreter, not the thread
# (python/cpython#106905): two threads turning source into AST objects at once can fail
# with "SystemError: AST constructor recursion depth mismatch". pytest parses a failed
# test's source to show it while the in-process worker's threads format tracebacks (3.11's
# `traceback` parses each line for its carets); one such clash turned a failed test into an
# INTERNALERROR that ended the whole pass. One parse at a time in the suite's process.
_AST_PARSE = ast.parse
_AST_LOCK = threading.RLock()


def _one_parse_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _AST_LOCK:
        return _AST_PARSE(*args, **kwargs)


ast.parse = _one_parse_at_a_time
